package io.annflight.store.zarr;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;

/**
 * A dense 2-d Zarr array. A read walks the requested rows chunk-row by chunk-row and decodes
 * each chunk of a chunk-row once, copying the requested rows' slices out of it.
 */
final class DenseZarrMatrix implements MatrixReader {

  private final ZarrArray array;
  private final long nRows;
  private final long nCols;
  private final int chunkRows;
  private final int chunkCols;
  private final int width;
  private final boolean fortran;

  DenseZarrMatrix(ZarrArray array) {
    this.array = array.requireNumeric(2);
    long[] shape = array.shape();
    this.nRows = shape[0];
    this.nCols = shape[1];
    this.chunkRows = array.meta().chunks()[0];
    this.chunkCols = array.meta().chunks()[1];
    this.width = array.width();
    this.fortran = array.meta().fortranOrder();
  }

  @Override
  public String elementPath() {
    return array.element();
  }

  @Override
  public long nRows() {
    return nRows;
  }

  @Override
  public long nCols() {
    return nCols;
  }

  @Override
  public ElementType elementType() {
    return array.elementType();
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.DENSE;
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    return read(RowSelection.range(elementPath(), nRows, start, stop));
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    return read(RowSelection.sorted(elementPath(), nRows, sortedRows));
  }

  private RowBlock read(RowSelection sel) {
    int n = sel.size();
    int cols = Math.toIntExact(nCols);
    TypedBuffer out = TypedBuffer.allocate(elementType(), Math.multiplyExact(n, cols));
    byte[] dst = out.bytes().array();
    long chunkColCount = (nCols + chunkCols - 1) / chunkCols;
    int i = 0;
    while (i < n) {
      long chunkRow = sel.row(i) / chunkRows;
      int j = i + 1;
      while (j < n && sel.row(j) / chunkRows == chunkRow) {
        j++;
      }
      for (long cc = 0; cc < chunkColCount; cc++) {
        byte[] chunk = array.numericChunk(chunkRow, cc);
        int colStart = (int) (cc * chunkCols);
        int take = Math.min(chunkCols, cols - colStart);
        for (int k = i; k < j; k++) {
          int within = (int) (sel.row(k) - chunkRow * chunkRows);
          int dstAt = (k * cols + colStart) * width;
          if (!fortran) {
            System.arraycopy(chunk, within * chunkCols * width, dst, dstAt, take * width);
          } else {
            for (int c = 0; c < take; c++) {
              System.arraycopy(chunk, (c * chunkRows + within) * width, dst, dstAt + c * width, width);
            }
          }
        }
      }
      i = j;
    }
    return new RowBlock.Dense(n, cols, out);
  }
}
