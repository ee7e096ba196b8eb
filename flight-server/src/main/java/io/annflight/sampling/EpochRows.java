package io.annflight.sampling;

import io.annflight.collection.CollectionPlan;

/**
 * What a sampler orders: the collection rows an epoch may use (ascending; all rows, or the
 * split's part), the store of each, and the plan for what else a sampler needs (label
 * weights).
 */
final class EpochRows {
  private final CollectionPlan plan;
  private final int[] rows;

  EpochRows(CollectionPlan plan, int[] rows) {
    this.plan = plan;
    this.rows = rows;
  }

  CollectionPlan plan() {
    return plan;
  }

  int size() {
    return rows.length;
  }

  /** The k-th usable row (collection row number). */
  int row(int k) {
    return rows[k];
  }

  /** A copy of the usable rows, to be ordered in place. */
  int[] copy() {
    return rows.clone();
  }

  int storeOf(int k) {
    return plan.rows().storeOf(rows[k]);
  }
}
