package io.annflight.store.anndata;

import io.annflight.store.MatrixLayout;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

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
    // indptr entries r and r + 1 of every distinct row, in one pass over indptr.
    long[] positions = pointerPositions(rows);
    long[] p = g.pointersAt(positions);
    long[] rowLo = new long[rows.length];
    long[] rowHi = new long[rows.length];
    for (int i = 0, k = 0; i < rows.length; i++) {
      while (positions[k] != rows[i]) {
        k++;
      }
      rowLo[i] = p[k];
      rowHi[i] = p[k + 1];
    }
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
