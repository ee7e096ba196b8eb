package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.container.ContainerArray;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** A dense 2-D array (or a 1-D obsm entry, read as one column). */
final class DenseMatrix implements MatrixReader {

  private final Path file;
  private final String elementPath;
  private final ContainerArray array;
  private final int width;

  DenseMatrix(Path file, String elementPath, ContainerArray array) {
    this.file = file;
    this.elementPath = elementPath;
    this.array = array;
    this.width = Math.toIntExact(array.rowWidth());
  }

  @Override
  public String elementPath() {
    return elementPath;
  }

  @Override
  public long nRows() {
    return array.nRows();
  }

  @Override
  public long nCols() {
    return width;
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
    Rows.checkRange(file, elementPath, start, stop, nRows());
    return new RowBlock.Dense((int) (stop - start), width, array.readRange(start, stop));
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    Rows.checkSorted(file, elementPath, sortedRows, nRows());
    return new RowBlock.Dense(sortedRows.length, width, array.readRows(sortedRows));
  }

  @Override
  public boolean readLittleEndianRowsTo(long[] sortedRows, long[] dstOffsets, ByteBuffer dst) {
    Rows.checkSorted(file, elementPath, sortedRows, nRows());
    return array.readLittleEndianRowsTo(sortedRows, dstOffsets, dst);
  }

  @Override
  public boolean readsAhead() {
    return array.readsAhead();
  }

  /** Hints each run of consecutive rows as one range. */
  @Override
  public void prefetch(long[] sortedRows) {
    for (int i = 0; i < sortedRows.length; ) {
      int j = i + 1;
      while (j < sortedRows.length && sortedRows[j] <= sortedRows[j - 1] + 1) {
        j++;
      }
      array.prefetchRange(sortedRows[i], sortedRows[j - 1] + 1);
      i = j;
    }
  }
}
