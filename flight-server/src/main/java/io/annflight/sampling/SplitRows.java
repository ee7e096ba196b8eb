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
 */
final class SplitRows {
  private SplitRows() {}

  /** The collection rows (ascending) in the requested part; null split: every row. */
  static int[] of(CollectionPlan plan, Split split) {
    int n = Math.toIntExact(plan.nObs());
    if (split == null) {
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      return all;
    }
    RowIndex index = plan.rows();
    long[] unfilteredOffset = new long[index.nStores()];
    for (int s = 1; s < unfilteredOffset.length; s++) {
      unfilteredOffset[s] = unfilteredOffset[s - 1]
          + plan.storeHandles().get(s - 1).nObs();
    }
    boolean wantHoldout = split.part() == Split.Part.HOLDOUT;
    long seedMix = SplitMix64.mix(split.seed());
    int[] out = new int[n];
    int kept = 0;
    for (int s = 0, row = 0; s < index.nStores(); s++) {
      for (long k = 0; k < index.count(s); k++, row++) {
        long u = unfilteredOffset[s] + index.localRow(s, k);
        if (heldOut(seedMix, u, split.holdout()) == wantHoldout) {
          out[kept++] = row;
        }
      }
    }
    return java.util.Arrays.copyOf(out, kept);
  }

  static boolean heldOut(long seedMix, long unfilteredRow, double fraction) {
    long h = seedMix ^ SplitMix64.mix(unfilteredRow);
    return (h >>> 11) * 0x1.0p-53 < fraction;
  }
}
