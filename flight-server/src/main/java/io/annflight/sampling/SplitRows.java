package io.annflight.sampling;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.RowIndex;
import io.annflight.schema.Split;

/**
 * The rows of a split's part. A row is held out when
 * {@code (mix(seed) ^ mix(u)) >>> 11} scaled to [0, 1) is below {@code holdout}, where u is the
 * row's position in the unfiltered collection (the stores' rows counted in order, before
 * obs_filter) and mix is SplitMix64's output function: the decision is per row, independent of
 * every other row, so appending stores or changing the filter never moves a row between parts.
 * The part is kept as a {@link RankBitmap} over the plan's rows: positions of the part map to
 * rows by {@code select}.
 */
final class SplitRows {
  private SplitRows() {}

  /** The rows of the requested part; null split: every row. */
  static EpochRows of(CollectionPlan plan, Split split) {
    if (split == null) {
      return EpochRows.all(plan);
    }
    long[] storeRows = new long[plan.rows().nStores()];
    for (int s = 0; s < storeRows.length; s++) {
      storeRows[s] = plan.storeHandles().get(s).nObs();
    }
    return EpochRows.part(plan, part(plan.rows(), storeRows, split));
  }

  /**
   * The part's rows among the index's rows.
   *
   * @param storeRows every store's rows before obs_filter
   */
  static RankBitmap part(RowIndex index, long[] storeRows, Split split) {
    long unfilteredOffset = 0;
    boolean wantHoldout = split.part() == Split.Part.HOLDOUT;
    long seedMix = SplitMix64.mix(split.seed());
    RankBitmap.Builder bits = new RankBitmap.Builder(index.nObs());
    for (int s = 0; s < index.nStores(); s++) {
      long first = index.offset(s);
      for (long k = 0, count = index.count(s); k < count; k++) {
        long u = unfilteredOffset + index.localRow(s, k);
        if (heldOut(seedMix, u, split.holdout()) == wantHoldout) {
          bits.set(first + k);
        }
      }
      unfilteredOffset += storeRows[s];
    }
    return bits.build();
  }

  static boolean heldOut(long seedMix, long unfilteredRow, double fraction) {
    long h = seedMix ^ SplitMix64.mix(unfilteredRow);
    return SplitMix64.unit(h) < fraction;
  }
}
