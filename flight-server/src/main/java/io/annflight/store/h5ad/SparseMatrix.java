package io.annflight.store.h5ad;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixReader;

/** What CSR and CSC groups share: the group and its shape and type. */
abstract class SparseMatrix implements MatrixReader {
  protected final SparseGroup g;

  SparseMatrix(SparseGroup group) {
    this.g = group;
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
  public ElementType elementType() {
    return g.data.type();
  }
}
