package io.annflight.store.anndata;

import io.annflight.store.MatrixLayout;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A {@code csc_matrix} group. Rows are spread over every column: the first read builds a
 * {@link CscRowIndex} (one pass over indices, kept for the matrix's life, shared by all
 * streams), after which a read costs what its rows hold. A matrix whose index would take more
 * than {@link #ROW_INDEX_BUDGET} bytes is read without one: each call then scans all non-zeros
 * in batches of whole columns and keeps the entries of the requested rows.
 */
final class CscMatrix extends SparseMatrix {

  /** Non-zeros read per batch: bounds memory while keeping reads large. */
  private static final long BATCH = 1 << 20;

  /**
   * Most memory one matrix's row index may take: an eighth of the heap, at least 64 MiB; the
   * system property {@code annflight.csc.rowIndexBytes} sets it (0 turns the index off, as the
   * reader benchmark does for its "before" figure).
   */
  static final long ROW_INDEX_BUDGET = Long.getLong("annflight.csc.rowIndexBytes",
      Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 8));

  private volatile long[] columnPointers;
  private volatile CscRowIndex rowIndex;
  private final boolean indexed;

  CscMatrix(SparseArrays group) {
    this(group, ROW_INDEX_BUDGET);
  }

  /** @param indexBudget the most the row index may take (0: always scan) */
  CscMatrix(SparseArrays group, long indexBudget) {
    super(group);
    this.indexed = CscRowIndex.buildBytes(group) <= indexBudget
        && group.nnz < Integer.MAX_VALUE - 8 && group.nRows < Integer.MAX_VALUE - 8;
  }

  /** Whether reads go through a row index (false: they scan the matrix). */
  boolean indexed() {
    return indexed;
  }

  private CscRowIndex rowIndex() {
    CscRowIndex index = rowIndex;
    if (index == null) {
      synchronized (this) {
        index = rowIndex;
        if (index == null) {
          index = CscRowIndex.build(g);
          rowIndex = index;
        }
      }
    }
    return index;
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.CSC;
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    Rows.checkRange(g.file, elementPath(), start, stop, nRows());
    int n = (int) (stop - start);
    if (indexed) {
      long[] rows = new long[n];
      Arrays.setAll(rows, i -> start + i);
      return rowIndex().read(rows);
    }
    int[] outToDistinct = new int[n];
    Arrays.setAll(outToDistinct, i -> i);
    return collect(new RowSet(start, stop, null), outToDistinct);
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    Rows.checkSorted(g.file, elementPath(), sortedRows, nRows());
    if (indexed) {
      return rowIndex().read(sortedRows);
    }
    long[] distinct = Rows.distinct(sortedRows);
    int[] outToDistinct = new int[sortedRows.length];
    for (int i = 0, d = -1; i < sortedRows.length; i++) {
      if (i == 0 || sortedRows[i] != sortedRows[i - 1]) {
        d++;
      }
      outToDistinct[i] = d;
    }
    long first = distinct.length == 0 ? 0 : distinct[0];
    long last = distinct.length == 0 ? -1 : distinct[distinct.length - 1];
    return collect(new RowSet(first, last + 1, distinct), outToDistinct);
  }

  /** The requested distinct rows: a range, or a sorted list inside that range. */
  private record RowSet(long from, long to, long[] list) {
    int size() {
      return list == null ? (int) (to - from) : list.length;
    }

    /** Ordinal of a row among the requested distinct rows, or -1. */
    int ordinal(long row) {
      if (row < from || row >= to) {
        return -1;
      }
      if (list == null) {
        return (int) (row - from);
      }
      int k = Arrays.binarySearch(list, row);
      return k < 0 ? -1 : k;
    }
  }

  private RowBlock collect(RowSet rows, int[] outToDistinct) {
    int nDistinct = rows.size();
    int width = elementType().byteWidth();
    Hits hits = new Hits(width);
    long[] colPtr = pointers();
    if (nDistinct > 0) {
      int c0 = 0;
      while (c0 < g.nCols) {
        int c1 = c0 + 1;
        while (c1 < g.nCols && colPtr[c1 + 1] - colPtr[c0] <= BATCH) {
          c1++;
        }
        scan(c0, c1, colPtr, rows, hits);
        c0 = c1;
      }
    }
    // Group the hits by distinct row (counting sort), keeping column order within a row.
    int[] count = new int[nDistinct + 1];
    for (int k = 0; k < hits.size; k++) {
      count[hits.ordinal[k] + 1]++;
    }
    for (int d = 0; d < nDistinct; d++) {
      count[d + 1] += count[d];
    }
    int[] distinctStart = count.clone();
    int[] cols = new int[hits.size];
    byte[] vals = new byte[hits.size * width];
    int[] fill = Arrays.copyOf(count, nDistinct);
    for (int k = 0; k < hits.size; k++) {
      int at = fill[hits.ordinal[k]]++;
      cols[at] = hits.column[k];
      System.arraycopy(hits.values, k * width, vals, at * width, width);
    }
    // Expand to the requested rows (duplicates repeat their distinct row).
    int nOut = outToDistinct.length;
    int[] offsets = new int[nOut + 1];
    for (int i = 0; i < nOut; i++) {
      int d = outToDistinct[i];
      offsets[i + 1] = offsets[i] + distinctStart[d + 1] - distinctStart[d];
    }
    int total = offsets[nOut];
    int[] outCols = new int[total];
    TypedBuffer outVals = TypedBuffer.allocate(elementType(), total);
    for (int i = 0; i < nOut; i++) {
      int d = outToDistinct[i];
      int len = distinctStart[d + 1] - distinctStart[d];
      System.arraycopy(cols, distinctStart[d], outCols, offsets[i], len);
      System.arraycopy(vals, distinctStart[d] * width, outVals.bytes().array(), offsets[i] * width,
          len * width);
    }
    outVals.bytes().order(g.valueOrder());
    return new RowBlock.Sparse(nOut, (int) nCols(), offsets, outCols, outVals);
  }

  private void scan(int c0, int c1, long[] colPtr, RowSet rows, Hits hits) {
    long lo = colPtr[c0];
    long hi = colPtr[c1];
    if (hi == lo) {
      return;
    }
    int[] rowIdx = g.minorIndices(lo, hi);
    byte[] data = null;
    int width = elementType().byteWidth();
    for (int c = c0; c < c1; c++) {
      for (long k = colPtr[c]; k < colPtr[c + 1]; k++) {
        int ord = rows.ordinal(rowIdx[(int) (k - lo)]);
        if (ord >= 0) {
          if (data == null) {
            ByteBuffer values = g.values(lo, hi).bytes();
            data = new byte[values.capacity()];
            values.get(0, data);
          }
          hits.add(ord, c, data, (int) (k - lo) * width);
        }
      }
    }
  }

  private long[] pointers() {
    long[] p = columnPointers;
    if (p == null) {
      // Immutable once read; a race only reads it twice.
      p = g.pointers(0, g.nCols + 1);
      columnPointers = p;
    }
    return p;
  }

  /** Growable arrays of the entries found: distinct-row ordinal, column, stored value bytes. */
  private static final class Hits {
    final int width;
    int size;
    int[] ordinal = new int[1024];
    int[] column = new int[1024];
    byte[] values;

    Hits(int width) {
      this.width = width;
      this.values = new byte[1024 * width];
    }

    void add(int ord, int col, byte[] src, int srcByte) {
      if (size == ordinal.length) {
        int cap = Math.multiplyExact(size, 2);
        ordinal = Arrays.copyOf(ordinal, cap);
        column = Arrays.copyOf(column, cap);
        values = Arrays.copyOf(values, Math.multiplyExact(cap, width));
      }
      ordinal[size] = ord;
      column[size] = col;
      System.arraycopy(src, srcByte, values, size * width, width);
      size++;
    }
  }
}
