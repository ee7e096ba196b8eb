package io.annflight.store.source;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read-only file operations on {@link ObjectPath}s, as the JDK's {@code Files} calls them: an
 * object is a regular file, a key prefix with objects under it a directory. Not installed as
 * a JDK-wide provider: paths are made by an {@link ObjectStore}.
 */
public final class ObjectFileSystemProvider extends FileSystemProvider {

  @Override
  public String getScheme() {
    return "s3";
  }

  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
    throw new UnsupportedOperationException("object file systems are made by ObjectStore");
  }

  @Override
  public FileSystem getFileSystem(URI uri) {
    throw new UnsupportedOperationException("object file systems are made by ObjectStore");
  }

  @Override
  public Path getPath(URI uri) {
    throw new UnsupportedOperationException("object paths are made by ObjectStore.path");
  }

  private static ObjectPath object(Path path) {
    if (!(path instanceof ObjectPath p)) {
      throw new ProviderMismatchException(path + " is not an object path");
    }
    return (ObjectPath) p.toAbsolutePath().normalize();
  }

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    return newFileChannel(path, options, attrs);
  }

  @Override
  public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    for (OpenOption o : options) {
      if (o == StandardOpenOption.WRITE || o == StandardOpenOption.APPEND
          || o == StandardOpenOption.CREATE || o == StandardOpenOption.CREATE_NEW
          || o == StandardOpenOption.DELETE_ON_CLOSE || o == StandardOpenOption.TRUNCATE_EXISTING) {
        throw new ReadOnlyFileSystemException();
      }
    }
    ObjectPath p = object(path);
    return new ByteSourceChannel(p.objectStore().open(p));
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir,
      DirectoryStream.Filter<? super Path> filter) throws IOException {
    ObjectPath p = object(dir);
    List<Path> children = p.objectStore().children(p);
    return new DirectoryStream<>() {
      @Override
      public Iterator<Path> iterator() {
        return children.stream().filter(c -> {
          try {
            return filter == null || filter.accept(c);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }).iterator();
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void delete(Path path) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public boolean isSameFile(Path path, Path path2) {
    return object(path).equals(path2 instanceof ObjectPath ? object(path2) : path2);
  }

  @Override
  public boolean isHidden(Path path) {
    return false;
  }

  @Override
  public FileStore getFileStore(Path path) {
    throw new UnsupportedOperationException("objects have no file store");
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    for (AccessMode m : modes) {
      if (m != AccessMode.READ) {
        throw new AccessDeniedException(path.toString(), null, "objects are read-only here");
      }
    }
    readAttributes(path, BasicFileAttributes.class);
  }

  @Override
  public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type,
      LinkOption... options) {
    return null;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type,
      LinkOption... options) throws IOException {
    if (!type.isAssignableFrom(ObjectAttributes.class)) {
      throw new UnsupportedOperationException("objects have basic attributes only, not "
          + type.getSimpleName());
    }
    ObjectPath p = object(path);
    return (A) p.objectStore().attributes(p);
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes,
      LinkOption... options) throws IOException {
    BasicFileAttributes a = readAttributes(path, BasicFileAttributes.class, options);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("size", a.size());
    out.put("isDirectory", a.isDirectory());
    out.put("isRegularFile", a.isRegularFile());
    out.put("isSymbolicLink", false);
    out.put("isOther", false);
    out.put("lastModifiedTime", a.lastModifiedTime());
    out.put("fileKey", a.fileKey());
    return out;
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options) {
    throw new ReadOnlyFileSystemException();
  }
}
