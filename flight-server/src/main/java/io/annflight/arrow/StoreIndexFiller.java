package io.annflight.arrow;

import org.apache.arrow.vector.IntVector;

/** {@code _store_idx}: the store position of every row. */
final class StoreIndexFiller implements ColumnFiller {
  private final IntVector vector;

  StoreIndexFiller(IntVector vector) {
    this.vector = vector;
  }

  @Override
  public void fill(BatchRows rows) {
    vector.allocateNew(rows.size);
    for (int i = 0; i < rows.size; i++) {
      vector.set(i, rows.storeOfRow[i]);
    }
    vector.setValueCount(rows.size);
  }
}
