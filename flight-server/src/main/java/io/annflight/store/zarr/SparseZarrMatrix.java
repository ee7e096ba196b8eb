package io.annflight.store.zarr;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;

/** What CSR and CSC groups share: shape, type, and turning row requests into selections. */
abstract class SparseZarrMatrix implements MatrixReader {
  protected final SparseGroup g;

  SparseZarrMatrix(SparseGroup group) {
    this.g = group;
  }

  @Override
  public String elementPath() {
    return g.element();
  }

  @Override
  public long nRows() {
    return g.nRows();
  }

  @Override
  public long nCols() {
    return g.nCols();
  }

  @Override
  public ElementType elementType() {
    return g.elementType();
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    return read(RowSelection.range(elementPath(), g.nRows(), start, stop));
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    return read(RowSelection.sorted(elementPath(), g.nRows(), sortedRows));
  }

  /** Reads the selected rows (validated, sorted) as a CSR-shaped block. */
  abstract RowBlock read(RowSelection sel);
}
