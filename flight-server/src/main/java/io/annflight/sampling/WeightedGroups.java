package io.annflight.sampling;

import io.annflight.schema.RequestException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The usable rows of a weighted sampler grouped by (store, weight): every row of a group has
 * the same weight (rows of one label combination in one store, or of labels whose weights are
 * equal), so a row drawn with probability proportional to its weight is a group drawn with
 * probability proportional to {@code count * weight} (an {@link AliasTable}), then one of its
 * rows uniformly. Groups are numbered store by store, each store's in the order their weight
 * first appears among its usable rows; rows of weight 0 are in no group. Holds, per usable
 * row of positive weight, its index among its store's usable rows (4 bytes), grouped: built
 * once per plan, split and weights, for every epoch.
 */
final class WeightedGroups {
  private final EpochRows rows;
  private final int[] store;
  private final double[] weight;
  private final long[] memberStart;
  private final int[] members;
  private final AliasTable alias;

  private WeightedGroups(EpochRows rows, int[] store, double[] weight, long[] memberStart,
      int[] members) {
    this.rows = rows;
    this.store = store;
    this.weight = weight;
    this.memberStart = memberStart;
    this.members = members;
    double[] mass = new double[store.length];
    for (int g = 0; g < mass.length; g++) {
      mass[g] = (memberStart[g + 1] - memberStart[g]) * weight[g];
    }
    this.alias = new AliasTable(mass);
  }

  /**
   * @param rowWeights the weight of every row of the plan (get_label_weights)
   */
  static WeightedGroups of(EpochRows rows, double[] rowWeights, List<String> obsKeys) {
    long n = rows.size();
    if (n > Integer.MAX_VALUE - 8) {
      throw new RequestException("\"sampler\" of kind \"weighted\" keeps 4 bytes per row, at"
          + " most " + (Integer.MAX_VALUE - 8) + " rows; this epoch has " + n);
    }
    int[] groupOf = new int[(int) n];
    int[] storeOf = new int[16];
    double[] weightOf = new double[16];
    long[] countOf = new long[16];
    int groups = 0;
    for (int s = 0; s < rows.nStores(); s++) {
      Map<Long, Integer> ids = new HashMap<>();
      for (long k = rows.storeStart(s); k < rows.storeStart(s + 1); k++) {
        double w = rowWeights[Math.toIntExact(rows.row(k))];
        if (!(w > 0)) {
          groupOf[(int) k] = -1;
          continue;
        }
        Integer id = ids.get(Double.doubleToLongBits(w));
        if (id == null) {
          if (groups == storeOf.length) {
            storeOf = java.util.Arrays.copyOf(storeOf, groups * 2);
            weightOf = java.util.Arrays.copyOf(weightOf, groups * 2);
            countOf = java.util.Arrays.copyOf(countOf, groups * 2);
          }
          id = groups++;
          ids.put(Double.doubleToLongBits(w), id);
          storeOf[id] = s;
          weightOf[id] = w;
        }
        groupOf[(int) k] = id;
        countOf[id]++;
      }
    }
    if (groups == 0) {
      throw new RequestException("\"sampler.weights\" over " + obsKeys
          + " are zero for every row of the epoch");
    }
    long[] starts = new long[groups + 1];
    for (int g = 0; g < groups; g++) {
      starts[g + 1] = starts[g] + countOf[g];
    }
    long[] fill = java.util.Arrays.copyOf(starts, groups);
    int[] members = new int[(int) starts[groups]];
    for (int s = 0; s < rows.nStores(); s++) {
      for (long k = rows.storeStart(s); k < rows.storeStart(s + 1); k++) {
        int g = groupOf[(int) k];
        if (g >= 0) {
          members[(int) fill[g]++] = (int) (k - rows.storeStart(s));
        }
      }
    }
    return new WeightedGroups(rows, java.util.Arrays.copyOf(storeOf, groups),
        java.util.Arrays.copyOf(weightOf, groups), starts, members);
  }

  EpochRows rows() {
    return rows;
  }

  /** Usable rows of positive weight. */
  long positive() {
    return members.length;
  }

  /**
   * The collection row drawn by three uniform 64-bit values: the group by the alias table
   * (h0, h1), the row within it by h2.
   */
  long draw(long h0, long h1, long h2) {
    int g = alias.draw(SplitMix64.unit(h0), SplitMix64.unit(h1));
    long count = memberStart[g + 1] - memberStart[g];
    long k = Math.min(count - 1, (long) (SplitMix64.unit(h2) * count));
    int s = store[g];
    return rows.row(rows.storeStart(s) + members[(int) (memberStart[g] + k)]);
  }

  /** The weight of every row of group g (for tests). */
  double weight(int g) {
    return weight[g];
  }
}
