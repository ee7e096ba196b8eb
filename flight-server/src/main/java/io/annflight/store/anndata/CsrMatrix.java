package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.RowBlock;
import io.annflight.store.SparseRowReads;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A {@code csr_matrix} group. A row range costs one indptr read and one contiguous read each of
 * indices and data; a sorted row list reads the non-zeros of runs of rows, merging runs that
 * lie close together on disk.
 */
final class CsrMatrix extends SparseMatrix {

  /**
   * Runs of non-zeros closer than this (in elements) are read as one span. Chunks are cached
   * (by the containers), so a span costs little more than its copy: merging across wide gaps
   * would only convert elements nobody asked for.
   */
  private static final long MERGE_GAP = 512;


  CsrMatrix(SparseArrays group) {
    super(group);
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.CSR;
  }

  @Override
  public boolean readsAhead() {
    return CsrReadAhead.applies(g);
  }

  @Override
  public void prefetch(long[] sortedRows) {
    CsrReadAhead.prefetch(g, sortedRows);
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    Rows.checkRange(g.file, elementPath(), start, stop, nRows());
    int n = (int) (stop - start);
    long[] p = g.pointers(start, n + 1L);
    long lo = p[0];
    long hi = p[n];
    g.checkBlock(hi - lo, start, n);
    int[] offsets = new int[n + 1];
    for (int i = 0; i <= n; i++) {
      offsets[i] = Math.toIntExact(p[i] - lo);
    }
    return new RowBlock.Sparse(n, (int) nCols(), offsets, g.minorIndices(lo, hi), g.values(lo, hi));
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    Rows.checkSorted(g.file, elementPath(), sortedRows, nRows());
    long[] rows = Rows.distinct(sortedRows);
    long[] rowLo = new long[rows.length];
    long[] rowHi = new long[rows.length];
    readBounds(rows, rowLo, rowHi);
    List<Span> spans = spans(rowLo, rowHi);

    long totalValues = 0;
    for (int d = 0; d < rows.length; d++) {
      totalValues += rowHi[d] - rowLo[d];
    }
    g.checkBlock(totalValues, sortedRows.length == 0 ? 0 : sortedRows[0], sortedRows.length);
    int[] offsets = new int[sortedRows.length + 1];
    for (int i = 0, d = -1; i < sortedRows.length; i++) {
      if (i == 0 || sortedRows[i] != sortedRows[i - 1]) {
        d++;
      }
      offsets[i + 1] = Math.addExact(offsets[i], Math.toIntExact(rowHi[d] - rowLo[d]));
    }
    int total = offsets[sortedRows.length];
    int width = elementType().byteWidth();
    int[] columns = new int[total];
    TypedBuffer values = TypedBuffer.allocate(elementType(), total);
    ByteBuffer out = values.bytes();
    int spanIndex = 0;
    for (int i = 0, d = -1; i < sortedRows.length; i++) {
      if (i == 0 || sortedRows[i] != sortedRows[i - 1]) {
        d++;
      }
      while (rowLo[d] >= spans.get(spanIndex).hi && rowHi[d] > rowLo[d]) {
        spanIndex++;
      }
      int len = offsets[i + 1] - offsets[i];
      if (len == 0) {
        continue;
      }
      Span s = spans.get(spanIndex);
      int from = (int) (rowLo[d] - s.lo);
      System.arraycopy(s.columns, from, columns, offsets[i], len);
      s.values.bytes().get(from * width, out.array(), offsets[i] * width, len * width);
    }
    // Values are copied as stored bytes, so the block keeps the stored byte order.
    TypedBuffer ordered = new TypedBuffer(elementType(),
        out.order(g.valueOrder()), total);
    return new RowBlock.Sparse(sortedRows.length, (int) nCols(), offsets, columns, ordered);
  }

  /** Stored entries {@code [rowLo[i], rowHi[i])} of each of the distinct sorted rows. */
  private void readBounds(long[] rows, long[] rowLo, long[] rowHi) {
    // indptr entries r and r + 1 of every distinct row, in one pass over indptr.
    long[] positions = pointerPositions(rows);
    long[] p = g.pointersAt(positions);
    for (int i = 0, k = 0; i < rows.length; i++) {
      while (positions[k] != rows[i]) {
        k++;
      }
      rowLo[i] = p[k];
      rowHi[i] = p[k + 1];
    }
  }

  @Override
  public Optional<SparseRowReads> sparseRows(long[] sortedRows) {
    if (!g.readsAsStored()) {
      return Optional.empty();
    }
    Rows.checkSorted(g.file, elementPath(), sortedRows, nRows());
    long[] rows = Rows.distinct(sortedRows);
    long[] distinctLo = new long[rows.length];
    long[] distinctHi = new long[rows.length];
    readBounds(rows, distinctLo, distinctHi);
    long[] lo = new long[sortedRows.length];
    int[] lengths = new int[sortedRows.length];
    long total = 0;
    for (int i = 0, d = -1; i < sortedRows.length; i++) {
      if (i == 0 || sortedRows[i] != sortedRows[i - 1]) {
        d++;
      }
      lo[i] = distinctLo[d];
      lengths[i] = Math.toIntExact(distinctHi[d] - distinctLo[d]);
      total += lengths[i];
    }
    g.checkBlock(total, sortedRows.length == 0 ? 0 : sortedRows[0], sortedRows.length);
    return Optional.of(new StoredRows(sortedRows, lo, lengths));
  }

  /** Rows read as stored: a run of rows consecutive in the file and the output is one read. */
  private final class StoredRows implements SparseRowReads {
    private final long[] rows;
    private final long[] lo;
    private final int[] lengths;

    StoredRows(long[] rows, long[] lo, int[] lengths) {
      this.rows = rows;
      this.lo = lo;
      this.lengths = lengths;
    }

    @Override
    public int[] lengths() {
      return lengths;
    }

    @Override
    public ElementType valueType() {
      return g.elementType();
    }

    @Override
    public int[] readTo(int[] at, ByteBuffer indices, ByteBuffer values) {
      ByteBuffer checked = indices.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      int[] unsorted = null;
      int nUnsorted = 0;
      int n = rows.length;
      for (int i = 0; i < n; ) {
        int j = i + 1;
        while (j < n && rows[j] == rows[j - 1] + 1 && at[j] == at[j - 1] + lengths[j - 1]) {
          j++;
        }
        long hi = lo[j - 1] + lengths[j - 1];
        if (hi > lo[i]) {
          g.readEntriesTo(lo[i], hi, indices, values, at[i]);
        }
        for (int k = i; k < j; k++) {
          if (!g.checkIndices(checked, at[k], lengths[k])) {
            if (unsorted == null) {
              unsorted = new int[n];
            }
            unsorted[nUnsorted++] = k;
          }
        }
        i = j;
      }
      return unsorted == null ? new int[0] : Arrays.copyOf(unsorted, nUnsorted);
    }
  }

  private static long[] pointerPositions(long[] rows) {
    long[] pos = new long[rows.length * 2];
    int n = 0;
    for (long r : rows) {
      if (n == 0 || pos[n - 1] != r) {
        pos[n++] = r;
      }
      pos[n++] = r + 1;
    }
    return java.util.Arrays.copyOf(pos, n);
  }

  /** Non-zero spans to read: the rows' own ranges, merged when close together. */
  private List<Span> spans(long[] rowLo, long[] rowHi) {
    List<Span> spans = new ArrayList<>();
    long lo = -1;
    long hi = -1;
    for (int i = 0; i < rowLo.length; i++) {
      if (rowHi[i] == rowLo[i]) {
        continue;
      }
      if (lo >= 0 && rowLo[i] - hi <= MERGE_GAP) {
        hi = rowHi[i];
      } else {
        if (lo >= 0) {
          spans.add(read(lo, hi));
        }
        lo = rowLo[i];
        hi = rowHi[i];
      }
    }
    if (lo >= 0) {
      spans.add(read(lo, hi));
    }
    spans.add(new Span(Long.MAX_VALUE, Long.MAX_VALUE, null, null)); // sentinel
    return spans;
  }

  private Span read(long lo, long hi) {
    return new Span(lo, hi, g.minorIndices(lo, hi), g.values(lo, hi));
  }

  private record Span(long lo, long hi, int[] columns, TypedBuffer values) {}
}
