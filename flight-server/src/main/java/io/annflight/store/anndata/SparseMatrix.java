package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixReader;

/** What CSR and CSC groups share: the group's arrays, shape and type. */
abstract class SparseMatrix implements MatrixReader {
  protected final SparseArrays g;

  SparseMatrix(SparseArrays arrays) {
    this.g = arrays;
  }

  @Override
  public String elementPath() {
    return g.elementPath;
  }

  @Override
  public long nRows() {
    return g.nRows;
  }

  @Override
  public long nCols() {
    return g.nCols;
  }

  @Override
  public long storedValues() {
    return g.nnz;
  }

  @Override
  public ElementType elementType() {
    return g.elementType();
  }
}
