package io.annflight.store.anndata;

import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Where each row's entries of a {@code csc_matrix} lie: for row r, the positions in
 * {@code data} and the columns of its non-zeros, columns ascending. Built once per matrix (one
 * pass over {@code indices}) and shared by every read, so reading rows costs what the rows hold
 * instead of a pass over the whole matrix. Takes 8 bytes per non-zero and 8 per row.
 */
final class CscRowIndex {

  /** Non-zeros read per batch while building: bounds the transient memory. */
  private static final long BATCH = 1 << 20;
  /** Values closer than this (in elements) are read as one span. */
  private static final long MERGE_GAP = 256;

  private final SparseArrays g;
  private final long[] rowStart;
  private final int[] positions;
  private final int[] columns;

  private CscRowIndex(SparseArrays g, long[] rowStart, int[] positions, int[] columns) {
    this.g = g;
    this.rowStart = rowStart;
    this.positions = positions;
    this.columns = columns;
  }

  /** Bytes an index of this matrix takes while it is built (the most it ever holds). */
  static long buildBytes(SparseArrays g) {
    return 12 * g.nnz + 8 * (g.nRows + 1);
  }

  static CscRowIndex build(SparseArrays g) {
    int nnz = Math.toIntExact(g.nnz);
    int nRows = Math.toIntExact(g.nRows);
    long[] colPtr = g.pointers(0, g.nCols + 1);
    int[] rowOf = new int[nnz];
    long[] rowStart = new long[nRows + 1];
    for (int c0 = 0; c0 < g.nCols; ) {
      int c1 = c0 + 1;
      while (c1 < g.nCols && colPtr[c1 + 1] - colPtr[c0] <= BATCH) {
        c1++;
      }
      int lo = (int) colPtr[c0];
      int[] rows = g.minorIndices(lo, colPtr[c1]);
      System.arraycopy(rows, 0, rowOf, lo, rows.length);
      for (int r : rows) {
        rowStart[r + 1]++;
      }
      c0 = c1;
    }
    for (int r = 0; r < nRows; r++) {
      rowStart[r + 1] += rowStart[r];
    }
    int[] positions = new int[nnz];
    int[] columns = new int[nnz];
    long[] fill = Arrays.copyOf(rowStart, nRows);
    for (int c = 0; c < g.nCols; c++) {
      for (int k = (int) colPtr[c]; k < colPtr[c + 1]; k++) {
        int at = (int) fill[rowOf[k]]++;
        positions[at] = k;
        columns[at] = c;
      }
    }
    return new CscRowIndex(g, rowStart, positions, columns);
  }

  /** The given rows (any order, duplicates allowed), in that order. */
  RowBlock read(long[] rows) {
    int n = rows.length;
    int[] offsets = new int[n + 1];
    for (int i = 0; i < n; i++) {
      int r = (int) rows[i];
      offsets[i + 1] = Math.addExact(offsets[i], (int) (rowStart[r + 1] - rowStart[r]));
    }
    int total = offsets[n];
    int[] outCols = new int[total];
    // (position << 32 | output slot), sorted: the values are then read in file order.
    long[] wanted = new long[total];
    for (int i = 0; i < n; i++) {
      int r = (int) rows[i];
      int from = (int) rowStart[r];
      int len = offsets[i + 1] - offsets[i];
      System.arraycopy(columns, from, outCols, offsets[i], len);
      for (int k = 0; k < len; k++) {
        wanted[offsets[i] + k] = ((long) positions[from + k] << 32) | (offsets[i] + k);
      }
    }
    Arrays.sort(wanted);
    int width = g.elementType().byteWidth();
    TypedBuffer outVals = TypedBuffer.allocate(g.elementType(), total);
    byte[] out = outVals.bytes().array();
    ByteBuffer order = null;
    int i = 0;
    while (i < total) {
      long lo = wanted[i] >>> 32;
      int j = i + 1;
      while (j < total && (wanted[j] >>> 32) - (wanted[j - 1] >>> 32) <= MERGE_GAP) {
        j++;
      }
      long hi = (wanted[j - 1] >>> 32) + 1;
      ByteBuffer span = g.values(lo, hi).bytes();
      order = span;
      for (int k = i; k < j; k++) {
        int at = (int) ((wanted[k] >>> 32) - lo);
        int slot = (int) wanted[k];
        span.get(at * width, out, slot * width, width);
      }
      i = j;
    }
    if (order != null) {
      outVals.bytes().order(order.order());
    }
    return new RowBlock.Sparse(n, (int) g.nCols, offsets, outCols, outVals);
  }
}
