package io.annflight.store.zarr;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;

/**
 * A CSR group. A read takes the requested rows' {@code indptr} entries, then copies their
 * {@code data}/{@code indices} spans in ascending order, so every chunk is decoded once per
 * call; a row range is one contiguous span.
 */
final class CsrZarrMatrix extends SparseZarrMatrix {

  CsrZarrMatrix(SparseGroup group) {
    super(group);
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.CSR;
  }

  @Override
  RowBlock read(RowSelection sel) {
    int n = sel.size();
    long[] lo = new long[n];
    int[] offsets = new int[n + 1];
    ZarrArray.Cursor1d ptr = new ZarrArray.Cursor1d(g.indptr());
    long previousEnd = 0;
    for (int k = 0; k < n; k++) {
      long r = sel.row(k);
      long a = ptr.getLong(r);
      long b = ptr.getLong(r + 1);
      if (a < 0 || b < a || b > g.nnz() || (k > 0 && sel.row(k - 1) != r && a < previousEnd)) {
        throw g.badIndptr(
            "row " + r + " spans [" + a + ", " + b + ") which is not a valid, non-decreasing range within "
                + g.nnz() + " stored values");
      }
      lo[k] = a;
      previousEnd = b;
      long total = offsets[k] + (b - a);
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(
            elementPath() + ": " + n + " rows hold more than 2^31 values; read fewer rows");
      }
      offsets[k + 1] = (int) total;
    }
    int nnz = offsets[n];
    ElementType vt = g.elementType();
    int vw = vt.byteWidth();
    int iw = g.indices().width();
    TypedBuffer values = TypedBuffer.allocate(vt, nnz);
    byte[] vbytes = values.bytes().array();
    byte[] ibytes = new byte[Math.multiplyExact(nnz, iw)];
    ZarrArray.Cursor1d data = new ZarrArray.Cursor1d(g.data());
    ZarrArray.Cursor1d idx = new ZarrArray.Cursor1d(g.indices());
    if (sel.isRange() && n > 0) {
      data.copy(lo[0], lo[0] + nnz, vbytes, 0);
      idx.copy(lo[0], lo[0] + nnz, ibytes, 0);
    } else {
      for (int k = 0; k < n; k++) {
        int len = offsets[k + 1] - offsets[k];
        if (k > 0 && sel.row(k) == sel.row(k - 1)) {
          // A duplicate row: copy what was just read instead of going back in the file.
          System.arraycopy(vbytes, offsets[k - 1] * vw, vbytes, offsets[k] * vw, len * vw);
          System.arraycopy(ibytes, offsets[k - 1] * iw, ibytes, offsets[k] * iw, len * iw);
        } else {
          data.copy(lo[k], lo[k] + len, vbytes, offsets[k] * vw);
          idx.copy(lo[k], lo[k] + len, ibytes, offsets[k] * iw);
        }
      }
    }
    int[] columns = g.toIndices(g.indices(), ibytes, nnz, g.nCols());
    return new RowBlock.Sparse(n, Math.toIntExact(g.nCols()), offsets, columns, values);
  }
}
