package io.annflight.store.h5ad;

import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreGeneration;
import io.annflight.store.StoreResourceException;
import io.annflight.store.StoreNotFoundException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One open HDF5 file: the shared jhdf handle, its file channel for our own positional reads,
 * and the translation of every jhdf failure into a {@link StoreException} naming the file and
 * the element. Thread-safe: jhdf's lazy structures are, and positional channel reads are.
 */
final class H5File implements AutoCloseable {

  private final Path path;
  private final HdfFile hdf;
  private final FileChannel channel;
  private final long userBlock;
  private final long fileSize;

  private final io.annflight.store.ChunkCache chunkCache;
  private final StoreGeneration generation;

  private H5File(Path path, HdfFile hdf, io.annflight.store.ChunkCache chunkCache,
      StoreGeneration generation) throws IOException {
    this.chunkCache = chunkCache;
    this.generation = generation;
    this.path = path;
    this.hdf = hdf;
    this.channel = hdf.getHdfBackingStorage().getFileChannel();
    this.userBlock = hdf.getUserBlockSize();
    this.fileSize = channel.size();
  }

  static H5File open(Path path, io.annflight.store.ChunkCache chunkCache,
      StoreGeneration generation) {
    if (!Files.exists(path)) {
      throw new StoreNotFoundException(path, "", "no such file (expected an .h5ad file)");
    }
    if (!Files.isRegularFile(path)) {
      throw new MalformedStoreException(path, "", "not a regular file (expected an .h5ad file)");
    }
    HdfFile hdf;
    FileChannel channel;
    try {
      channel = new BoundedFileChannel(FileChannel.open(path, StandardOpenOption.READ));
    } catch (IOException e) {
      throw new MalformedStoreException(path, "", "cannot be opened: " + e.getMessage(), e);
    }
    try {
      hdf = new HdfFile(channel);
    } catch (RuntimeException | InternalError | OutOfMemoryError e) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing was read through it that could be lost
      }
      if (e instanceof OutOfMemoryError oom) {
        throw StoreResourceException.outOfMemory(path, "", "opening the HDF5 file", oom);
      }
      throw new MalformedStoreException(
          path, "", "not a readable HDF5 file (expected an .h5ad file): " + e.getMessage(), e);
    }
    try {
      return new H5File(path, hdf, chunkCache, generation);
    } catch (IOException | RuntimeException e) {
      hdf.close();
      throw new MalformedStoreException(path, "", "cannot read the HDF5 file: " + e, e);
    }
  }

  Path path() {
    return path;
  }

  /** Decompressed chunks, shared with the other files of the server. */
  io.annflight.store.ChunkCache chunkCache() {
    return chunkCache;
  }

  /** This opening of the file: its chunks are cached under it (see {@link ChunkKey}). */
  StoreGeneration generation() {
    return generation;
  }

  /**
   * A decompressed chunk's key in the shared cache: the opening of the file (never its path,
   * which a replaced file keeps), the array (its name hashed once) and the chunk's index; no
   * string is built or hashed per chunk.
   */
  record ChunkKey(long generation, String array, int arrayHash, long index) {
    @Override
    public int hashCode() {
      return 31 * (31 * arrayHash + Long.hashCode(index)) + Long.hashCode(generation);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ChunkKey k && k.index == index && k.generation == generation
          && k.arrayHash == arrayHash && k.array.equals(array);
    }
  }

  HdfFile hdf() {
    return hdf;
  }

  FileChannel channel() {
    return channel;
  }

  /** Position in the file of an HDF5 address (addresses are relative to the superblock). */
  long fileOffset(long address) {
    return address + userBlock;
  }

  /**
   * Runs a jhdf call for an element, turning any failure of the library into a
   * {@link MalformedStoreException}. jhdf maps parts of the file and copies from the mapping in
   * Java; a file truncated under it makes such a copy throw {@link InternalError}, caught here.
   */
  <T> T guard(String element, String reading, Supplier<T> call) {
    try {
      return call.get();
    } catch (StoreException e) {
      throw e;
    } catch (RuntimeException | InternalError | StackOverflowError e) {
      throw withFault(new MalformedStoreException(
          path, element, "could not read " + reading + ": " + describe(e), e));
    } catch (OutOfMemoryError e) {
      throw outOfMemory(element, "reading " + reading, e);
    }
  }

  /**
   * What running out of memory while {@code doing} means. No Java array is larger than about
   * 2^31 bytes, and jhdf asks for one only when damaged metadata claims that much: damage.
   * Otherwise the heap ran out (a damaged length that fits an array cannot be told apart from a
   * real one here; the limit is named either way).
   */
  StoreException outOfMemory(String element, String doing, OutOfMemoryError e) {
    if (String.valueOf(e.getMessage()).contains("exceeds VM limit")) {
      return new MalformedStoreException(path, element, "failed " + doing + ": its HDF5"
          + " metadata asks for a buffer larger than any array (" + e.getMessage() + ")", e);
    }
    return StoreResourceException.outOfMemory(path, element, doing, e);
  }

  /**
   * {@code e} with what the object store answered the last failed read attached (a file in a
   * bucket): jhdf wraps read failures without their cause, and the store's answer decides the
   * status (unavailable, replaced) the client gets.
   */
  MalformedStoreException withFault(MalformedStoreException e) {
    if (channel instanceof BoundedFileChannel b
        && b.inner() instanceof io.annflight.store.source.ByteSourceChannel s) {
      RuntimeException fault = s.lastFault();
      if (fault != null && fault != e.getCause()) {
        e.addSuppressed(fault);
      }
    }
    return e;
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : " (" + m + ")");
  }

  /** The node at a slash-separated path, resolving soft links; empty when absent. */
  Optional<Node> find(String elementPath) {
    return guard(
        elementPath,
        "the element",
        () -> {
          Node node = hdf;
          for (String part : elementPath.split("/")) {
            if (part.isEmpty()) {
              continue;
            }
            if (!(node instanceof Group group)) {
              return Optional.<Node>empty();
            }
            node = group.getChildren().get(part);
            if (node == null) {
              return Optional.<Node>empty();
            }
            if (node instanceof Link link) {
              node = link.getTarget();
            }
          }
          return Optional.of(node);
        });
  }

  Node require(String elementPath, String expected) {
    return find(elementPath)
        .orElseThrow(
            () -> new StoreNotFoundException(path, elementPath, "missing (expected " + expected + ")"));
  }

  Dataset requireDataset(String elementPath, String expected) {
    Node node = require(elementPath, expected);
    if (!(node instanceof Dataset ds)) {
      throw new MalformedStoreException(path, elementPath, "is a group, expected " + expected);
    }
    return ds;
  }

  Group requireGroup(String elementPath, String expected) {
    Node node = require(elementPath, expected);
    if (!(node instanceof Group g)) {
      throw new MalformedStoreException(path, elementPath, "is a dataset, expected " + expected);
    }
    return g;
  }

  /** An attribute's value as jhdf decodes it; empty when the node has no such attribute. */
  Optional<Object> attribute(Node node, String elementPath, String name) {
    return guard(
        elementPath,
        "attribute '" + name + "'",
        () -> {
          Attribute attr = node.getAttributes().get(name);
          if (attr == null) {
            return Optional.empty();
          }
          return Optional.ofNullable(attr.isEmpty() ? null : attr.getData());
        });
  }

  /** A string attribute ({@code encoding-type}, {@code _index}); empty when absent. */
  Optional<String> stringAttribute(Node node, String elementPath, String name) {
    return attribute(node, elementPath, name)
        .map(
            v -> {
              if (v instanceof String s) {
                return s;
              }
              if (v instanceof String[] a && a.length == 1) {
                return a[0];
              }
              throw new MalformedStoreException(
                  path, elementPath, "attribute '" + name + "' is " + v.getClass().getSimpleName()
                      + ", expected a string");
            });
  }

  Optional<String> encodingType(Node node, String elementPath) {
    return stringAttribute(node, elementPath, "encoding-type");
  }

  /** The source of a file in a bucket (which takes read-ahead hints); null for a local file. */
  private io.annflight.store.source.ByteSource remoteSource() {
    if (channel instanceof BoundedFileChannel b
        && b.inner() instanceof io.annflight.store.source.ByteSourceChannel s
        && s.source().readsAhead()) {
      return s.source();
    }
    return null;
  }

  /** Whether {@link #prefetch} does anything: a file in a bucket, with read-ahead on. */
  boolean readsAhead() {
    return remoteSource() != null;
  }

  /**
   * A hint that {@code length} bytes at an HDF5 address will be read soon: a file in a bucket
   * starts fetching them in the background; nothing happens for a local file.
   */
  void prefetch(long address, long length) {
    io.annflight.store.source.ByteSource source = remoteSource();
    if (source != null && length > 0) {
      source.prefetch(address + userBlock, length);
    }
  }

  /**
   * Reads {@code length} bytes at an HDF5 address (relative to the superblock, as jhdf reports
   * them) into {@code dst} from its position; fails when the file ends early.
   */
  void readFully(String elementPath, long address, ByteBuffer dst) {
    long pos = address + userBlock;
    try {
      while (dst.hasRemaining()) {
        int n = channel.read(dst, pos);
        if (n <= 0) {
          throw new MalformedStoreException(
              path, elementPath, "file ends before byte " + pos + " inside the element's data"
                  + " (truncated, or rewritten in place while it was served?)");
        }
        pos += n;
      }
    } catch (IOException e) {
      throw new MalformedStoreException(path, elementPath, "read failed: " + e, e);
    }
  }

  /**
   * Why a read may have failed when the file is now shorter than when it was opened (an
   * operator's copy rewriting it in place); empty otherwise.
   */
  String shrunkNote() {
    try {
      long now = channel.size();
      return now < fileSize ? " (the file is now " + now + " bytes, " + fileSize + " when opened:"
          + " truncated, or rewritten in place while it was served?)" : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Checks that {@code [address, address + length)} lies inside the file. */
  void checkInFile(String elementPath, long address, long length) {
    long end = address + userBlock + length;
    if (address < 0 || length < 0 || end > fileSize) {
      throw new MalformedStoreException(
          path, elementPath, "data at bytes " + (address + userBlock) + ".." + end
              + " lies past the end of the file (" + fileSize + " bytes; truncated?)");
    }
  }

  @Override
  public void close() {
    long g = generation.id();
    chunkCache.removeIf(k -> k instanceof ChunkKey c && c.generation() == g);
    try {
      hdf.close();
    } catch (RuntimeException e) {
      // Closing a read-only channel cannot lose data; nothing useful to report.
    }
  }
}
