package io.annflight.store;

/**
 * Rows read from a matrix, in the order they were asked for, with values in the stored type.
 * A dense block is row-major; a sparse block is CSR-shaped whatever the layout on disk.
 */
public sealed interface RowBlock permits RowBlock.Dense, RowBlock.Sparse {

  int nRows();

  int nCols();

  /** Row-major values: row r, column c is element {@code r * nCols + c}. */
  record Dense(int nRows, int nCols, TypedBuffer values) implements RowBlock {
    public Dense {
      if ((long) nRows * nCols != values.length()) {
        throw new IllegalArgumentException(
            "dense block " + nRows + "x" + nCols + " holds " + values.length() + " values");
      }
    }
  }

  /**
   * Row r has the entries {@code rowOffsets[r] .. rowOffsets[r+1]} of {@code columns} and
   * {@code values}; columns within a row are in the order stored (not necessarily sorted).
   */
  record Sparse(int nRows, int nCols, int[] rowOffsets, int[] columns, TypedBuffer values)
      implements RowBlock {
    public Sparse {
      if (rowOffsets.length != nRows + 1) {
        throw new IllegalArgumentException(
            "sparse block of " + nRows + " rows needs " + (nRows + 1) + " offsets");
      }
      if (columns.length < rowOffsets[nRows] || values.length() < rowOffsets[nRows]) {
        throw new IllegalArgumentException("sparse block arrays are shorter than its offsets");
      }
    }

    public int nnz() {
      return rowOffsets[nRows];
    }
  }
}
