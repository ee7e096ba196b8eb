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
 * Unfiltered chunks are copied out of the mapping jhdf returns at once (inside the guard that turns a fault on a truncated file into an error),
 * so no mapped memory outlives the call that read it.
 */
final class ChunkedArray extends H5Array {

  private final ChunkedDataset ds;
  private final boolean twoDimensional;
  private final int chunkRows;
  private final int chunkCols;
  private final int nColChunks;
  private final int chunkBytes;
  private final boolean unfiltered;
  private final String cacheKey;
  private final int cacheKeyHash;

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
    this.cacheKey = file.path() + "\u0000" + elementPath + "\u0000";
    this.cacheKeyHash = cacheKey.hashCode();
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    byte[] dst = out.array();
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
    byte[] dst = out.array();
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

  /**
   * A chunk's key in the shared cache: the array (its name hashed once, with the array) and
   * the chunk's index; no string is built or hashed per chunk.
   */
  private record ChunkKey(String array, int arrayHash, long index) {
    @Override
    public int hashCode() {
      return 31 * arrayHash + Long.hashCode(index);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ChunkKey k && k.index == index && k.arrayHash == arrayHash
          && k.array.equals(array);
    }
  }

  /** Decompresses the chunks holding rows {@code r0 .. r0 + chunkRows} across all columns. */
  private void loadChunkRow(long r0, ByteBuffer[] chunks) {
    for (int cj = 0; cj < nColChunks; cj++) {
      chunks[cj] = chunk(r0, cj);
    }
  }

  /** The chunk at row {@code r0}, column chunk {@code cj}, from the caches or the file. */
  private ByteBuffer chunk(long r0, int cj) {
    long index = (r0 / chunkRows) * nColChunks + cj;
    ChunkKey key = new ChunkKey(cacheKey, cacheKeyHash, index);
    byte[] cached = (byte[]) file.chunkCache().get(key);
    if (cached != null) {
      return ByteBuffer.wrap(cached);
    }
    ByteBuffer b = decompress(offset(r0, cj));
    if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0
        && b.array().length == chunkBytes) {
      file.chunkCache().put(key, b.array());
    }
    return b;
  }

  private int[] offset(long r0, int cj) {
    return twoDimensional ? new int[] {(int) r0, cj * chunkCols} : new int[] {(int) r0};
  }

  /**
   * The chunk's bytes on the heap: for an unfiltered dataset a copy of the stored bytes,
   * otherwise the decompressed chunk.
   */
  private ByteBuffer decompress(int[] offset) {
    ByteBuffer bytes;
    try {
      bytes = unfiltered ? copyOf(ds.getRawChunkBuffer(offset))
          : ByteBuffer.wrap(ds.getDecompressedChunk(offset));
    } catch (HdfException e) {
      if (String.valueOf(e.getMessage()).startsWith("No chunk with offset")) {
        // A chunk HDF5 never allocated holds the fill value, which anndata leaves at zero.
        return ByteBuffer.wrap(new byte[chunkBytes]);
      }
      throw malformed("could not decompress the chunk at " + Arrays.toString(offset) + ": " + e);
    } catch (RuntimeException | InternalError | OutOfMemoryError e) {
      throw malformed("could not read the chunk at " + Arrays.toString(offset) + ": " + e);
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
