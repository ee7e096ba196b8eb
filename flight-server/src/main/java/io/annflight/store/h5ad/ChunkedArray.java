package io.annflight.store.h5ad;

import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.exceptions.HdfException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A chunked (possibly compressed) dataset. jhdf has no chunk cache and its sliced reads
 * decompress every overlapping chunk per call, so rows are assembled here from
 * {@link ChunkedDataset#getDecompressedChunk}: each chunk a call touches is decompressed once,
 * and recently used chunks are kept across calls (and streams): decompressed chunks in one
 * byte-bounded cache shared by every file the server opened ({@code StoreResources}).
 * Unfiltered chunks of an array larger than a quarter of that cache skip it: what a call needs
 * is copied straight from the mapping jhdf returns to its destination, since a scan over such
 * an array would only churn the cache (a heap copy and an eviction per chunk, for nothing).
 * Other unfiltered chunks are copied out of the mapping at once. Copies from a mapping (a view
 * of the file's mapped window, see {@code BoundedFileChannel}) run inside a guard that turns a
 * fault on a file truncated under it into an error.
 */
final class ChunkedArray extends H5Array {

  private final ChunkedDataset ds;
  private final boolean twoDimensional;
  private final int chunkRows;
  private final int chunkCols;
  private final int nColChunks;
  private final int chunkBytes;
  private final boolean unfiltered;
  /** Unfiltered and too large to cache: chunks are read from their mappings (see above). */
  private final boolean mappedReads;
  private final String cacheKey;
  private final int cacheKeyHash;
  /**
   * The chunks the file allocated, read on first use (reading jhdf's chunk index costs what the
   * first chunk read would); a benign race may read it twice.
   */
  private volatile H5AllocatedChunks allocated;
  /** An unallocated chunk's bytes: shared, never written to. */
  private final ByteBuffer fillChunk;

  ChunkedArray(
      H5File file, String elementPath, StoredType stored, long nRows, int rowWidth,
      ChunkedDataset ds) {
    super(file, elementPath, stored, nRows, rowWidth);
    this.ds = ds;
    this.twoDimensional = ds.getDimensionsAsLong().length == 2;
    int[] chunk = ds.getChunkDimensions();
    if (chunk.length < (twoDimensional ? 2 : 1) || chunk[0] <= 0) {
      throw malformed("has chunk shape " + Arrays.toString(chunk) + " for a "
          + (twoDimensional ? "2-D" : "1-D") + " array");
    }
    this.chunkRows = chunk[0];
    this.chunkCols = twoDimensional ? chunk[1] : 1;
    if (chunkCols <= 0) {
      throw malformed("has chunk shape " + Arrays.toString(chunk));
    }
    this.nColChunks = rowWidth == 0 ? 0 : (rowWidth + chunkCols - 1) / chunkCols;
    this.chunkBytes =
        Math.toIntExact((long) chunkRows * chunkCols * stored.type().byteWidth());
    this.unfiltered = ds.getFilters().isEmpty();
    this.mappedReads = unfiltered
        && nRows * (long) rowBytes > file.chunkCache().budgetBytes() / 4;
    this.cacheKey = elementPath;
    this.cacheKeyHash = cacheKey.hashCode();
    this.fillChunk = ByteBuffer.wrap(new byte[chunkBytes]).asReadOnlyBuffer();
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    guardMapped(() -> copyRange(start, stop, out.array()));
  }

  private void copyRange(long start, long stop, byte[] dst) {
    ByteBuffer[] chunks = new ByteBuffer[nColChunks];
    for (long ci = start / chunkRows; ci <= (stop - 1) / chunkRows; ci++) {
      long r0 = ci * chunkRows;
      loadChunkRow(r0, chunks);
      long lo = Math.max(start, r0);
      long hi = Math.min(stop, r0 + chunkRows);
      if (chunkCols == rowWidth) {
        // Chunks span whole rows (always so for 1-D arrays): one copy per chunk.
        chunks[0].get((int) (lo - r0) * rowBytes, dst, (int) (lo - start) * rowBytes,
            (int) (hi - lo) * rowBytes);
        continue;
      }
      for (long r = lo; r < hi; r++) {
        copyRow(chunks, (int) (r - r0), dst, (int) (r - start));
      }
    }
  }

  @Override
  void fillRows(long[] rows, ByteBuffer out) {
    guardMapped(() -> copyRows(rows, out.array()));
  }

  /**
   * Runs a call's copies: with mapped reads they copy out of mapped chunks, and a file
   * truncated under a mapping faults the copy with an {@link InternalError}, reported here as a
   * malformed store (heap copies raise none).
   */
  private void guardMapped(Runnable copies) {
    try {
      copies.run();
    } catch (InternalError e) {
      throw malformed("could not read a chunk (file truncated while it was served?): " + e);
    } catch (IndexOutOfBoundsException e) {
      // Chunks are checked to hold a whole chunk; still, never an unnamed error.
      throw malformed("a chunk is shorter than its rows: " + e + file.shrunkNote());
    }
  }

  private void copyRows(long[] rows, byte[] dst) {
    ByteBuffer[] chunks = new ByteBuffer[nColChunks];
    long loadedChunkRow = -1;
    for (int i = 0; i < rows.length; i++) {
      long ci = rows[i] / chunkRows;
      if (ci != loadedChunkRow) {
        loadChunkRow(ci * chunkRows, chunks);
        loadedChunkRow = ci;
      }
      copyRow(chunks, (int) (rows[i] - ci * chunkRows), dst, i);
    }
  }

  /** Decompresses the chunks holding rows {@code r0 .. r0 + chunkRows} across all columns. */
  private void loadChunkRow(long r0, ByteBuffer[] chunks) {
    for (int cj = 0; cj < nColChunks; cj++) {
      chunks[cj] = chunk(r0, cj);
    }
  }

  /**
   * The chunk at row {@code r0}, column chunk {@code cj}: its mapping (with mapped reads),
   * otherwise from the cache or the file.
   */
  private ByteBuffer chunk(long r0, int cj) {
    int[] offset = offset(r0, cj);
    if (!allocated().has(offset)) {
      // A chunk HDF5 never allocated holds the fill value, which anndata leaves at zero. Known
      // from the index rather than from jhdf's exception: a file claiming millions of chunks it
      // never wrote would otherwise cost an exception per chunk (tens of seconds).
      return fillChunk.duplicate();
    }
    if (mappedReads) {
      return decompress(offset);
    }
    long index = (r0 / chunkRows) * nColChunks + cj;
    H5File.ChunkKey key =
        new H5File.ChunkKey(file.generation().id(), cacheKey, cacheKeyHash, index);
    byte[] cached = (byte[]) file.chunkCache().get(key);
    if (cached != null) {
      return ByteBuffer.wrap(cached);
    }
    ByteBuffer b = decompress(offset);
    if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0
        && b.array().length == chunkBytes) {
      file.chunkCache().put(key, b.array());
    }
    return b;
  }

  /**
   * A hint that rows {@code [start, stop)} will be read soon (see {@link H5File#prefetch}):
   * the stored bytes of their chunks that are not decoded in the cache, as the chunk index
   * places them. Decodes nothing.
   */
  void prefetchRange(long start, long stop) {
    if (stop <= start) {
      return;
    }
    for (long ci = start / chunkRows; ci <= (stop - 1) / chunkRows; ci++) {
      for (int cj = 0; cj < nColChunks; cj++) {
        long index = ci * nColChunks + cj;
        if (!mappedReads && file.chunkCache().get(new H5File.ChunkKey(file.generation().id(),
            cacheKey, cacheKeyHash, index)) != null) {
          continue;
        }
        long[] place = allocated().place(offset(ci * chunkRows, cj));
        if (place != null) {
          file.prefetch(place[0], place[1]);
        }
      }
    }
  }

  private H5AllocatedChunks allocated() {
    H5AllocatedChunks a = allocated;
    if (a == null) {
      a = H5AllocatedChunks.of(ds);
      allocated = a;
    }
    return a;
  }

  private int[] offset(long r0, int cj) {
    return twoDimensional ? new int[] {(int) r0, cj * chunkCols} : new int[] {(int) r0};
  }

  /**
   * The chunk's bytes: with mapped reads the mapping of the stored bytes (read only under
   * {@link #guardMapped}), otherwise on the heap: for an unfiltered dataset a copy of the stored
   * bytes, or the decompressed chunk.
   */
  private ByteBuffer decompress(int[] offset) {
    ByteBuffer bytes;
    try {
      bytes = mappedReads ? ds.getRawChunkBuffer(offset)
          : unfiltered ? copyOf(ds.getRawChunkBuffer(offset))
          : ByteBuffer.wrap(ds.getDecompressedChunk(offset));
    } catch (HdfException e) {
      if (String.valueOf(e.getMessage()).startsWith("No chunk with offset")) {
        // Unallocated, though the index did not say so (jhdf's index unreadable): see chunk().
        return fillChunk.duplicate();
      }
      throw malformed("could not decompress the chunk at " + Arrays.toString(offset) + ": " + e
          + file.shrunkNote());
    } catch (RuntimeException | InternalError e) {
      throw malformed("could not read the chunk at " + Arrays.toString(offset) + ": " + e
          + file.shrunkNote());
    } catch (OutOfMemoryError e) {
      throw file.outOfMemory(elementPath, "decompressing the chunk at "
          + Arrays.toString(offset), e);
    }
    if (bytes.remaining() < chunkBytes) {
      throw malformed("chunk at " + Arrays.toString(offset) + " holds " + bytes.remaining()
          + " bytes, expected " + chunkBytes);
    }
    return bytes.position() == 0 ? bytes : bytes.slice();
  }

  /** A heap copy of the first chunk's worth of a (mapped) raw chunk buffer. */
  private ByteBuffer copyOf(ByteBuffer raw) {
    byte[] copy = new byte[Math.min(chunkBytes, raw.remaining())];
    raw.duplicate().get(copy);
    return ByteBuffer.wrap(copy);
  }

  private void copyRow(ByteBuffer[] chunks, int rowInChunk, byte[] dst, int outRow) {
    int w = stored.type().byteWidth();
    int dstBase = outRow * rowBytes;
    for (int cj = 0; cj < nColChunks; cj++) {
      int c0 = cj * chunkCols;
      int n = Math.min(chunkCols, rowWidth - c0);
      chunks[cj].get(rowInChunk * chunkCols * w, dst, dstBase + c0 * w, n * w);
    }
  }
}
