package io.annflight.store.h5ad;

import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.jhdf.api.Group;

/**
 * The three arrays and the shape of an anndata sparse matrix group ({@code csr_matrix} or
 * {@code csc_matrix}), checked for consistency when opened.
 */
final class SparseGroup {

  final H5File file;
  final String elementPath;
  final H5Array data;
  final H5Array indices;
  final H5Array indptr;
  final long nRows;
  final long nCols;
  /** Length of the compressed axis: rows for CSR, columns for CSC. */
  final long nMajor;
  final long nMinor;
  final long nnz;

  SparseGroup(H5File file, String elementPath, Group group, boolean rowMajor) {
    this.file = file;
    this.elementPath = elementPath;
    long[] shape = shape(file, elementPath, group);
    this.nRows = shape[0];
    this.nCols = shape[1];
    this.nMajor = rowMajor ? nRows : nCols;
    this.nMinor = rowMajor ? nCols : nRows;
    this.data = part(file, elementPath, "data", "the stored non-zero values");
    this.indices = part(file, elementPath, "indices", "the non-zeros' minor-axis indices");
    this.indptr = part(file, elementPath, "indptr", "the compressed-axis pointers");
    if (data.rowWidth != 1 || indices.rowWidth != 1 || indptr.rowWidth != 1) {
      throw malformed("has a 2-D data, indices or indptr, expected 1-D arrays");
    }
    if (!indices.type().isInteger() || !indptr.type().isInteger()) {
      throw malformed("has non-integer indices or indptr (" + indices.type() + ", "
          + indptr.type() + ")");
    }
    if (indptr.nRows != nMajor + 1) {
      throw malformed("has an indptr of " + indptr.nRows + " entries, expected " + (nMajor + 1)
          + " for shape [" + nRows + ", " + nCols + "]");
    }
    if (indices.nRows != data.nRows) {
      throw malformed("has " + indices.nRows + " indices but " + data.nRows + " data values");
    }
    this.nnz = data.nRows;
  }

  private static long[] shape(H5File file, String elementPath, Group group) {
    // anndata < 0.7 named the attribute h5sparse_shape.
    Object v = file.attribute(group, elementPath, "shape")
        .or(() -> file.attribute(group, elementPath, "h5sparse_shape"))
        .orElseThrow(() -> new MalformedStoreException(
            file.path(), elementPath, "has no 'shape' attribute, expected [n_rows, n_cols]"));
    long[] shape;
    if (v instanceof long[] l) {
      shape = l;
    } else if (v instanceof int[] i) {
      shape = java.util.Arrays.stream(i).asLongStream().toArray();
    } else {
      throw new MalformedStoreException(file.path(), elementPath,
          "has a 'shape' attribute of " + v.getClass().getSimpleName()
              + ", expected two integers");
    }
    if (shape.length != 2 || shape[0] < 0 || shape[1] < 0) {
      throw new MalformedStoreException(file.path(), elementPath,
          "has shape " + java.util.Arrays.toString(shape) + ", expected [n_rows, n_cols]");
    }
    return shape;
  }

  private static H5Array part(H5File file, String elementPath, String name, String what) {
    String p = elementPath + "/" + name;
    return H5Array.of(file, p, file.requireDataset(p, what));
  }

  /**
   * Pointers {@code indptr[first .. first + count]} as longs, checked to be non-decreasing and
   * within the stored non-zeros.
   */
  long[] pointers(long first, long count) {
    return checkPointers(IntegerColumns.toLongs(indptr.readRange(first, first + count)), first);
  }

  /** Pointers at the given ascending positions of indptr. */
  long[] pointersAt(long[] positions) {
    long[] p = IntegerColumns.toLongs(indptr.readRows(positions));
    for (int i = 0; i < p.length; i++) {
      if (p[i] < 0 || p[i] > nnz || (i > 0 && p[i] < p[i - 1])) {
        throw badPointer(positions[i], p[i]);
      }
    }
    return p;
  }

  private long[] checkPointers(long[] p, long first) {
    for (int i = 0; i < p.length; i++) {
      if (p[i] < 0 || p[i] > nnz || (i > 0 && p[i] < p[i - 1])) {
        throw badPointer(first + i, p[i]);
      }
    }
    return p;
  }

  private MalformedStoreException badPointer(long at, long value) {
    return new MalformedStoreException(file.path(), elementPath + "/indptr",
        "entry " + at + " is " + value + ", expected non-decreasing pointers within [0, " + nnz
            + "]");
  }

  int[] minorIndices(long lo, long hi) {
    return IntegerColumns.toIndices(indices.readRange(lo, hi), nMinor, file.path(),
        elementPath + "/indices");
  }

  TypedBuffer values(long lo, long hi) {
    return data.readRange(lo, hi);
  }

  MalformedStoreException malformed(String problem) {
    return new MalformedStoreException(file.path(), elementPath, problem);
  }
}
