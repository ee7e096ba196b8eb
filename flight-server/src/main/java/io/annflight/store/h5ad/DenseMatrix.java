package io.annflight.store.h5ad;

import java.nio.ByteBuffer;
import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;

/** A dense 2-D dataset (or a 1-D obsm entry, read as one column). */
final class DenseMatrix implements MatrixReader {

  private final H5Array array;

  DenseMatrix(H5Array array) {
    this.array = array;
  }

  @Override
  public String elementPath() {
    return array.elementPath;
  }

  @Override
  public long nRows() {
    return array.nRows;
  }

  @Override
  public long nCols() {
    return array.rowWidth;
  }

  @Override
  public ElementType elementType() {
    return array.type();
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.DENSE;
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    Rows.checkRange(array.file.path(), elementPath(), start, stop, nRows());
    return new RowBlock.Dense((int) (stop - start), array.rowWidth, array.readRange(start, stop));
  }

  @Override
  public boolean readLittleEndianRowsTo(long[] sortedRows, long[] dstOffsets, ByteBuffer dst) {
    Rows.checkSorted(array.file.path(), elementPath(), sortedRows, nRows());
    return array instanceof ContiguousArray c && c.readLittleEndianRowsTo(sortedRows, dstOffsets,
        dst);
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    Rows.checkSorted(array.file.path(), elementPath(), sortedRows, nRows());
    return new RowBlock.Dense(sortedRows.length, array.rowWidth, array.readRows(sortedRows));
  }
}
