package io.annflight.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one way the files inside a directory store are opened. A file must resolve, symbolic
 * links followed, inside the store's own directory, and must be a regular file: a link to a
 * file elsewhere is never read, and a FIFO, device or socket is never opened (opening a FIFO
 * blocks until somebody writes to it). The real file is opened without following links, so a
 * link swapped in after the check is refused by the kernel.
 */
public final class StoreFiles {
  /** What a single metadata or chunk file may hold; Java arrays end at 2 GiB anyway. */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 64;

  private final Path store;
  private final Path realStore;
  /** The directory's inode when the store was opened: a replaced store has another one. */
  private final Object storeKey;
  /** A store in a bucket: its objects as listed when opened; null for a directory on disk. */
  private final ObjectStoreFiles objects;

  private StoreFiles(Path store, Path realStore, Object storeKey, ObjectStoreFiles objects) {
    this.store = store;
    this.realStore = realStore;
    this.storeKey = storeKey;
    this.objects = objects;
  }

  /** The files of the directory store at {@code store}, which must exist. */
  public static StoreFiles of(Path store) {
    if (store instanceof io.annflight.store.source.ObjectPath objectStore) {
      return new StoreFiles(store, store, null, ObjectStoreFiles.of(objectStore));
    }
    try {
      Path real = store.toRealPath();
      return new StoreFiles(store, real, Files.readAttributes(real, BasicFileAttributes.class)
          .fileKey(), null);
    } catch (IOException e) {
      throw new StoreNotFoundException(store, "", "cannot be accessed: " + e.getMessage());
    }
  }

  /**
   * Files are opened by name, so after the store's directory was replaced they would come
   * from the new one: refuse rather than mix two stores' bytes in one stream.
   */
  private void checkNotReplaced(String element) throws IOException {
    Object now = Files.readAttributes(realStore, BasicFileAttributes.class).fileKey();
    if (storeKey != null && !storeKey.equals(now)) {
      throw new StoreChangedException(store, element, "the store was replaced on disk while it"
          + " was read; request again to read the new one");
    }
  }

  public Path store() {
    return store;
  }

  /** Whether {@link #prefetch} does anything: a store in a bucket, with read-ahead on. */
  public boolean readsAhead() {
    return objects != null && objects.readsAhead();
  }

  /**
   * A hint that {@code file} (inside the store) will be read soon: a store in a bucket starts
   * fetching the object in the background; nothing happens on disk or for a file not listed.
   */
  public void prefetch(Path file) {
    if (objects != null) {
      objects.prefetch(file);
    }
  }

  /**
   * The whole content of {@code file} (inside the store), or null when there is no such file.
   *
   * @param element the element the file belongs to, for messages
   * @param what the file as messages name it ({@code .zarray}, {@code chunk 0.1})
   * @throws StoreAccessException when the file leads outside the store or is not a regular file
   */
  public byte[] readIfExists(Path file, String element, String what) {
    return readIfExists(file, element, what, 0, -1, MAX_FILE_BYTES);
  }

  /**
   * Bytes {@code [offset, offset + length)} of {@code file} (the rest of the file from
   * {@code offset} when {@code length} is -1), or null when there is no such file. Nothing is
   * allocated before the file is known to hold the bytes, and never more than
   * {@code maxBytes}: a damaged or hostile store cannot make a read allocate what it claims.
   *
   * @throws MalformedStoreException when the file is shorter than the range, or the range is
   *     larger than {@code maxBytes}
   */
  public byte[] readIfExists(Path file, String element, String what, long offset, long length,
      long maxBytes) {
    if (objects != null) {
      return objects.readIfExists(file, element, what, offset, length,
          Math.min(maxBytes, MAX_FILE_BYTES));
    }
    Checked f = check(file, element, what);
    if (f == null) {
      return null;
    }
    long want = length < 0 ? f.size() - offset : length;
    if (offset < 0 || want < 0 || offset + want > f.size()) {
      throw new MalformedStoreException(store, element, what + ": bytes [" + offset + ", "
          + (offset + want) + ") lie past the end of the file (" + f.size()
          + " bytes; truncated?)");
    }
    long limit = Math.min(maxBytes, MAX_FILE_BYTES);
    if (want > limit) {
      throw new MalformedStoreException(store, element, what + " holds " + want
          + " bytes, more than it can (at most " + limit + " for what it stores)");
    }
    try (SeekableByteChannel ch =
        Files.newByteChannel(f.real(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ch.position(offset);
      return readAll(ch, (int) want, element, what);
    } catch (NoSuchFileException e) {
      return null; // removed between the look and the open
    } catch (IOException e) {
      throw new StoreException(store, element, "cannot read " + what + ": " + e.getMessage(), e);
    }
  }

  /**
   * For a store in a bucket, the names (sorted) of the directories directly under {@code dir}
   * holding one of {@code markers} (metadata files such as {@code .zgroup}), as listed when
   * the store was opened; null for a store on disk, whose directories are listed as they are.
   */
  public java.util.List<String> listedChildDirectories(Path dir, java.util.List<String> markers) {
    return objects == null ? null : objects.childDirectories(dir, markers);
  }

  /** The size of {@code file} in bytes (inside the store), or -1 when there is none. */
  public long sizeIfExists(Path file, String element, String what) {
    if (objects != null) {
      return objects.sizeIfExists(file);
    }
    Checked f = check(file, element, what);
    return f == null ? -1 : f.size();
  }

  /** A file of the store that passed the checks: where it really is, and its size then. */
  private record Checked(Path real, long size) {}

  /**
   * The checks every file passes before it is opened: the store not replaced, the file inside
   * it (links followed) and a regular file. Null when there is no such file.
   */
  private Checked check(Path file, String element, String what) {
    Path real;
    try {
      checkNotReplaced(element);
      real = file.toRealPath();
    } catch (NoSuchFileException e) {
      if (!Files.exists(realStore)) {
        throw new StoreNotFoundException(store, element, "the store was removed while it was"
            + " read");
      }
      return null;
    } catch (IOException e) {
      throw new StoreException(store, element, "cannot access " + what + ": " + e.getMessage(), e);
    }
    if (!real.startsWith(realStore)) {
      // Say that it escapes, never where to.
      throw new StoreAccessException(store, element, what
          + " is a symbolic link leading outside the store; it is not read");
    }
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null; // removed between the look and the check
    } catch (IOException e) {
      throw new StoreException(store, element, "cannot read " + what + ": " + e.getMessage(), e);
    }
    if (!attrs.isRegularFile()) {
      throw new StoreAccessException(store, element, what + " is not a regular file ("
          + (attrs.isDirectory() ? "a directory" : "a FIFO, device or socket")
          + "); it is not opened");
    }
    return new Checked(real, attrs.size());
  }

  /** Reads exactly the size seen when the file was checked: a file growing meanwhile is cut. */
  private byte[] readAll(SeekableByteChannel ch, int size, String element, String what)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(size);
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new MalformedStoreException(store, element, what + " shrank while it was read"
            + " (rewritten in place while served?)");
      }
    }
    return buf.array();
  }
}
