package io.annflight.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a store path is on disk right now: its file (inode), size, modification and change time.
 * A store replaced by rename has another file key; one rewritten in place keeps its file key and
 * gets new times (the change time cannot be set back by {@code touch} or {@code cp -p}).
 *
 * <p>A directory (Zarr) store's entries are rewritten inside it without touching the directory,
 * so its stamp also takes the latest times of its root metadata files: every Zarr writer (and a
 * copy of a store over another) rewrites them, and zarr-python and anndata write them first.
 */
public record FileStamp(Object fileKey, long size, long modifiedNanos, long changedNanos) {

  /** The root metadata files of Zarr v2 and v3 stores. */
  private static final List<String> ROOT_METADATA =
      List.of(".zgroup", ".zattrs", ".zmetadata", "zarr.json");

  /**
   * The stamp of the file or directory at {@code path}.
   *
   * @throws StoreNotFoundException when there is nothing at the path, or it cannot be read
   */
  public static FileStamp of(Path path) {
    try {
      FileStamp stamp = read(path);
      if (path instanceof io.annflight.store.source.ObjectPath) {
        // An object's file key is its version; a prefix's, its root metadata object's: one to
        // three requests, where looking at each root metadata file below would send nine.
        return stamp;
      }
      if (stamp.size != DIRECTORY) {
        return stamp;
      }
      for (String name : ROOT_METADATA) {
        Path file = path.resolve(name);
        if (!exists(file)) {
          continue; // not this version's metadata
        }
        try {
          FileStamp m = read(file);
          stamp = new FileStamp(stamp.fileKey, DIRECTORY,
              Math.max(stamp.modifiedNanos, m.modifiedNanos),
              Math.max(stamp.changedNanos, m.changedNanos));
        } catch (NoSuchFileException e) {
          // removed since the look
        }
      }
      return stamp;
    } catch (NoSuchFileException e) {
      throw new StoreNotFoundException(path, "", "no such file or directory");
    } catch (IOException e) {
      throw new StoreNotFoundException(path, "", "cannot be accessed: " + e.getMessage());
    }
  }

  /**
   * Whether {@code file} exists; on the local disk through {@link java.io.File} (no exception
   * for an absent file: cheaper), elsewhere (a bucket's file system) through its provider.
   */
  private static boolean exists(Path file) {
    return file.getFileSystem() == java.nio.file.FileSystems.getDefault()
        ? file.toFile().exists() : Files.exists(file);
  }

  /** The size a directory is given: its entries' sizes are no measure of the store. */
  private static final long DIRECTORY = -1;

  private static FileStamp read(Path path) throws IOException {
    try {
      Map<String, Object> a = Files.readAttributes(path,
          "unix:fileKey,isDirectory,size,lastModifiedTime,ctime");
      return new FileStamp(a.get("fileKey"),
          Boolean.TRUE.equals(a.get("isDirectory")) ? DIRECTORY : (Long) a.get("size"),
          nanos((FileTime) a.get("lastModifiedTime")), nanos((FileTime) a.get("ctime")));
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // No unix view (not Linux or macOS): the modification time alone tells a rewrite.
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return new FileStamp(a.fileKey(), a.isDirectory() ? DIRECTORY : a.size(),
          nanos(a.lastModifiedTime()), 0);
    }
  }

  private static long nanos(FileTime t) {
    return t == null ? 0 : t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * What happened, since this stamp was taken, to the very file it was taken of, judged by what
   * is at {@code path} now: "was truncated", "was rewritten in place", or null when nothing did.
   * A path that now names another file (replaced by rename) or none says nothing about the
   * file that was opened, which keeps its bytes: null too.
   */
  public String changeSince(Path path) {
    FileStamp now;
    try {
      now = of(path);
    } catch (StoreNotFoundException e) {
      return null;
    }
    if (fileKey != null && !Objects.equals(fileKey, now.fileKey)) {
      return null;
    }
    if (now.size < size) {
      return "was truncated while it was read (now " + now.size + " bytes, " + size
          + " when opened)";
    }
    return equals(now) ? null : "was rewritten in place while it was read";
  }
}
