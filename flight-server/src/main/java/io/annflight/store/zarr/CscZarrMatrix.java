package io.annflight.store.zarr;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.util.Arrays;

/**
 * A CSC group read by rows. Rows are scattered over every column, so each read scans all of
 * {@code indices} once and {@code data} for the hits; the cost is O(nnz) per call whatever the
 * number of rows (acceptable for the small CSC stores anndata users have; CSR is the fast path).
 */
final class CscZarrMatrix extends SparseZarrMatrix {

  CscZarrMatrix(SparseGroup group) {
    super(group);
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.CSC;
  }

  @Override
  RowBlock read(RowSelection sel) {
    int n = sel.size();
    int cols = Math.toIntExact(g.nCols());
    // Distinct requested rows (sorted) and, for each, its first output slot and multiplicity.
    long[] distinct = new long[n];
    int[] firstSlot = new int[n];
    int[] copies = new int[n];
    int d = 0;
    for (int k = 0; k < n; k++) {
      if (d > 0 && distinct[d - 1] == sel.row(k)) {
        copies[d - 1]++;
      } else {
        distinct[d] = sel.row(k);
        firstSlot[d] = k;
        copies[d] = 1;
        d++;
      }
    }
    int nnz = Math.toIntExact(g.nnz());
    int[] rowOf = g.toIndices(g.indices(), g.indices().read1d(0, nnz).bytes().array(), nnz, g.nRows());
    long[] ptr = readIndptr(cols, nnz);
    int[] hit = new int[nnz]; // distinct-row slot of each stored value, or -1
    int[] count = new int[Math.max(d, 1)];
    int[] slotOfRow = slotTable(sel, distinct, d);
    for (int e = 0; e < nnz; e++) {
      int slot = slotOfRow != null ? slotOfRow[rowOf[e]] : lookup(sel, distinct, d, rowOf[e]);
      hit[e] = slot;
      if (slot >= 0) {
        count[slot]++;
      }
    }
    int[] offsets = new int[n + 1];
    for (int s = 0; s < d; s++) {
      for (int c = 0; c < copies[s]; c++) {
        int k = firstSlot[s] + c;
        offsets[k + 1] = Math.addExact(offsets[k], count[s]);
      }
    }
    int total = offsets[n];
    int[] columns = new int[total];
    ElementType vt = g.elementType();
    int w = vt.byteWidth();
    TypedBuffer values = TypedBuffer.allocate(vt, total);
    byte[] out = values.bytes().array();
    byte[] data = g.data().read1d(0, nnz).bytes().array();
    int[] fill = new int[Math.max(d, 1)];
    for (int col = 0; col < cols; col++) {
      for (long e = ptr[col]; e < ptr[col + 1]; e++) {
        int s = hit[(int) e];
        if (s < 0) {
          continue;
        }
        int pos = offsets[firstSlot[s]] + fill[s]++;
        columns[pos] = col;
        System.arraycopy(data, (int) e * w, out, pos * w, w);
      }
    }
    // Duplicated rows get copies of their first occurrence.
    for (int s = 0; s < d; s++) {
      int from = offsets[firstSlot[s]];
      for (int c = 1; c < copies[s]; c++) {
        int to = offsets[firstSlot[s] + c];
        System.arraycopy(columns, from, columns, to, count[s]);
        System.arraycopy(out, from * w, out, to * w, count[s] * w);
      }
    }
    return new RowBlock.Sparse(n, cols, offsets, columns, values);
  }

  private long[] readIndptr(int cols, int nnz) {
    TypedBuffer p = g.indptr().read1d(0, cols + 1L);
    long[] ptr = new long[cols + 1];
    for (int i = 0; i <= cols; i++) {
      ptr[i] = p.getLong(i);
      if (ptr[i] < 0 || ptr[i] > nnz || (i > 0 && ptr[i] < ptr[i - 1])) {
        throw g.badIndptr("entry " + i + " = " + ptr[i] + " is not non-decreasing within " + nnz + " values");
      }
    }
    return ptr;
  }

  /** For row lists over up to 16M rows: a direct row -> slot table (else binary search). */
  private int[] slotTable(RowSelection sel, long[] distinct, int d) {
    if (sel.isRange() || g.nRows() > (1 << 24)) {
      return null;
    }
    int[] table = new int[(int) g.nRows()];
    Arrays.fill(table, -1);
    for (int s = 0; s < d; s++) {
      table[(int) distinct[s]] = s;
    }
    return table;
  }

  private static int lookup(RowSelection sel, long[] distinct, int d, long row) {
    if (sel.isRange()) {
      long off = d == 0 ? -1 : row - distinct[0];
      return off >= 0 && off < d ? (int) off : -1;
    }
    int s = Arrays.binarySearch(distinct, 0, d, row);
    return s >= 0 ? s : -1;
  }
}
