package io.annflight.store.source;

import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.function.Supplier;

/**
 * What an object, or a prefix taken as a directory, looks like as a file. An object's file key
 * is its version (bucket, key, ETag, time written), so a replaced object is another file. A
 * prefix has no version of its own: it takes that of its root metadata object (a Zarr store's
 * {@code zarr.json}, {@code .zattrs} or {@code .zgroup}, which rewriting a store rewrites),
 * looked up only when asked for.
 */
final class ObjectAttributes implements BasicFileAttributes {
  private final boolean directory;
  private final long size;
  private final Supplier<ObjectVersion> version;

  private ObjectAttributes(boolean directory, long size, Supplier<ObjectVersion> version) {
    this.directory = directory;
    this.size = size;
    this.version = version;
  }

  static ObjectAttributes object(ObjectVersion v) {
    return new ObjectAttributes(false, v.size(), () -> v);
  }

  /** @param rootMetadata the prefix's metadata object's version, or null; asked once at most */
  static ObjectAttributes prefix(Supplier<ObjectVersion> rootMetadata) {
    return new ObjectAttributes(true, 0, memoize(rootMetadata));
  }

  private static <T> Supplier<T> memoize(Supplier<T> s) {
    return new Supplier<>() {
      private volatile boolean done;
      private T value;

      @Override
      public T get() {
        if (!done) {
          synchronized (this) {
            if (!done) {
              value = s.get();
              done = true;
            }
          }
        }
        return value;
      }
    };
  }

  @Override
  public FileTime lastModifiedTime() {
    ObjectVersion v = version.get();
    return FileTime.fromMillis(v == null ? 0 : v.lastModifiedMillis());
  }

  @Override
  public FileTime lastAccessTime() {
    return lastModifiedTime();
  }

  @Override
  public FileTime creationTime() {
    return lastModifiedTime();
  }

  @Override
  public boolean isRegularFile() {
    return !directory;
  }

  @Override
  public boolean isDirectory() {
    return directory;
  }

  @Override
  public boolean isSymbolicLink() {
    return false;
  }

  @Override
  public boolean isOther() {
    return false;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public Object fileKey() {
    ObjectVersion v = version.get();
    return v == null ? null : (directory ? "prefix of " : "") + v.identity();
  }
}
