package io.annflight.store.h5ad;

import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.exceptions.HdfException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A chunked (possibly compressed) dataset. jhdf has no chunk cache and its sliced reads
 * decompress every overlapping chunk per call, so rows are assembled here from
 * {@link ChunkedDataset#getDecompressedChunk}: each chunk a call touches is decompressed once.
 */
final class ChunkedArray extends H5Array {

  private final ChunkedDataset ds;
  private final boolean twoDimensional;
  private final int chunkRows;
  private final int chunkCols;
  private final int nColChunks;
  private final int chunkBytes;

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
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    byte[] dst = out.array();
    byte[][] chunks = new byte[nColChunks][];
    for (long ci = start / chunkRows; ci <= (stop - 1) / chunkRows; ci++) {
      long r0 = ci * chunkRows;
      loadChunkRow(r0, chunks);
      long lo = Math.max(start, r0);
      long hi = Math.min(stop, r0 + chunkRows);
      if (chunkCols == rowWidth) {
        // Chunks span whole rows (always so for 1-D arrays): one copy per chunk.
        System.arraycopy(chunks[0], (int) (lo - r0) * rowBytes, dst, (int) (lo - start) * rowBytes,
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
    byte[][] chunks = new byte[nColChunks][];
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
  private void loadChunkRow(long r0, byte[][] chunks) {
    for (int cj = 0; cj < nColChunks; cj++) {
      int[] offset = twoDimensional ? new int[] {(int) r0, cj * chunkCols} : new int[] {(int) r0};
      chunks[cj] = decompress(offset);
    }
  }

  private byte[] decompress(int[] offset) {
    byte[] bytes;
    try {
      bytes = ds.getDecompressedChunk(offset);
    } catch (HdfException e) {
      if (String.valueOf(e.getMessage()).startsWith("No chunk with offset")) {
        // A chunk HDF5 never allocated holds the fill value, which anndata leaves at zero.
        return new byte[chunkBytes];
      }
      throw malformed("could not decompress the chunk at " + Arrays.toString(offset) + ": " + e);
    } catch (RuntimeException | InternalError | OutOfMemoryError e) {
      throw malformed("could not read the chunk at " + Arrays.toString(offset) + ": " + e);
    }
    if (bytes.length < chunkBytes) {
      throw malformed("chunk at " + Arrays.toString(offset) + " decompressed to " + bytes.length
          + " bytes, expected " + chunkBytes);
    }
    return bytes;
  }

  private void copyRow(byte[][] chunks, int rowInChunk, byte[] dst, int outRow) {
    int w = stored.type().byteWidth();
    int dstBase = outRow * rowBytes;
    for (int cj = 0; cj < nColChunks; cj++) {
      int c0 = cj * chunkCols;
      int n = Math.min(chunkCols, rowWidth - c0);
      System.arraycopy(chunks[cj], rowInChunk * chunkCols * w, dst, dstBase + c0 * w, n * w);
    }
  }
}
