package io.annflight.arrow;

import org.apache.arrow.vector.BigIntVector;

/** {@code _row}: the collection row of every row (with {@code return_index}). */
final class RowNumberFiller implements ColumnFiller {
  private final BigIntVector vector;

  RowNumberFiller(BigIntVector vector) {
    this.vector = vector;
  }

  @Override
  public void fill(BatchRows rows) {
    vector.allocateNew(rows.size);
    for (int i = 0; i < rows.size; i++) {
      vector.set(i, rows.rows[i]);
    }
    vector.setValueCount(rows.size);
  }
}
