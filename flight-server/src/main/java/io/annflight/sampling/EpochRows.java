package io.annflight.sampling;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.RowIndex;

/**
 * What a sampler orders: the collection rows an epoch may use (all rows, or a split's part),
 * numbered {@code 0..size()-1} in ascending collection order ("usable index"), with where each
 * store's usable rows begin; and the plan, for what else a sampler needs (label weights). All
 * rows cost nothing; a part costs its {@link RankBitmap} (about 1.1 bits per collection row),
 * built once per plan and split. Immutable.
 */
final class EpochRows {
  private final CollectionPlan plan;
  private final RankBitmap part;
  private final long[] storeStarts;

  private EpochRows(CollectionPlan plan, RowIndex index, RankBitmap part) {
    if (part != null && part.size() != index.nObs()) {
      throw new IllegalArgumentException("a part of " + part.size() + " rows for "
          + index.nObs());
    }
    this.plan = plan;
    this.part = part;
    this.storeStarts = new long[index.nStores() + 1];
    for (int s = 0; s < index.nStores(); s++) {
      long end = index.offset(s) + index.count(s);
      storeStarts[s + 1] = part == null ? end : part.rank(end);
    }
  }

  /** Every row of the plan. */
  static EpochRows all(CollectionPlan plan) {
    return new EpochRows(plan, plan.rows(), null);
  }

  /** The rows of the plan whose bits are set in {@code part} (a bitmap over its rows). */
  static EpochRows part(CollectionPlan plan, RankBitmap part) {
    return new EpochRows(plan, plan.rows(), part);
  }

  /** Rows of a row index alone, without a plan (samplers that need no labels; tests). */
  static EpochRows of(RowIndex index, RankBitmap part) {
    return new EpochRows(null, index, part);
  }

  CollectionPlan plan() {
    return plan;
  }

  long size() {
    return storeStarts[storeStarts.length - 1];
  }

  /** Whether usable index k is collection row k. */
  boolean isAll() {
    return part == null;
  }

  /** The collection row of usable index {@code k}. */
  long row(long k) {
    return part == null ? k : part.select(k);
  }

  int nStores() {
    return storeStarts.length - 1;
  }

  /** The first usable index of store {@code s}; {@code storeStart(nStores())} is size(). */
  long storeStart(int s) {
    return storeStarts[s];
  }
}
