package io.annflight.arrow;

/** Fills one output vector for a batch. */
interface ColumnFiller {

  /** Allocates the vector for {@code rows.size} rows and writes every row. */
  void fill(BatchRows rows);
}
