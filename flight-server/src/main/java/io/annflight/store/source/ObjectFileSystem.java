package io.annflight.store.source;

import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Set;

/** One bucket of an {@link ObjectStore}, read-only, as a file system of {@link ObjectPath}s. */
public final class ObjectFileSystem extends FileSystem {
  private final ObjectFileSystemProvider provider;
  private final ObjectStore store;
  private final String bucket;

  ObjectFileSystem(ObjectFileSystemProvider provider, ObjectStore store, String bucket) {
    this.provider = provider;
    this.store = store;
    this.bucket = bucket;
  }

  String bucket() {
    return bucket;
  }

  ObjectStore store() {
    return store;
  }

  @Override
  public ObjectFileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {
    // The store owns the client; the bucket's file system has nothing of its own.
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return true;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(ObjectPath.parse(this, "/"));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return List.of();
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return Set.of("basic");
  }

  @Override
  public Path getPath(String first, String... more) {
    StringBuilder s = new StringBuilder(first);
    for (String m : more) {
      s.append('/').append(m);
    }
    String text = s.toString();
    String prefix = "s3://" + bucket;
    if (text.startsWith("s3://")) {
      if (!text.equals(prefix) && !text.startsWith(prefix + "/")) {
        throw new IllegalArgumentException(text + " is not in bucket " + bucket);
      }
      return ObjectPath.parse(this, "/" + text.substring(prefix.length()));
    }
    return ObjectPath.parse(this, text);
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    throw new UnsupportedOperationException("no path matchers for objects");
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    throw new UnsupportedOperationException("objects have no owners here");
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("objects cannot be watched");
  }
}
