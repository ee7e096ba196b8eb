package io.annflight.sampling;

import io.annflight.collection.LabelWeights;
import io.annflight.schema.RequestException;
import java.util.ArrayList;
import java.util.Arrays;
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
 * once per plan, split and weights, for every epoch, from two streamed passes over the weights
 * (no array of the rows' weights or groups while it is built).
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

  /** The plan's row weights in plan-row order, handed out a block at a time (twice). */
  @FunctionalInterface
  interface RowWeights {
    void forEachWeight(LabelWeights.WeightBlock sink);

    /** Weights held in one array (small collections and tests). */
    static RowWeights of(double[] all) {
      return sink -> sink.accept(all, all.length);
    }
  }

  /**
   * Two streamed passes over the weights (count the groups, then place each member), so that
   * nothing per row but the members' 4 bytes is ever held.
   *
   * @param weights the weight of every row of the plan (get_label_weights), streamed
   */
  static WeightedGroups of(EpochRows rows, RowWeights weights, List<String> obsKeys) {
    long n = rows.size();
    if (n > Integer.MAX_VALUE - 8) {
      throw new RequestException("\"sampler\" of kind \"weighted\" keeps 4 bytes per row, at"
          + " most " + (Integer.MAX_VALUE - 8) + " rows; this epoch has " + n);
    }
    GroupIds ids = new GroupIds(rows.nStores());
    forEachUsable(rows, weights, (s, k, w) -> ids.count(s, w));
    int groups = ids.size();
    if (groups == 0) {
      throw new RequestException("\"sampler.weights\" over " + obsKeys
          + " are zero for every row of the epoch");
    }
    long[] starts = new long[groups + 1];
    for (int g = 0; g < groups; g++) {
      starts[g + 1] = starts[g] + ids.countOf[g];
    }
    long[] fill = Arrays.copyOf(starts, groups);
    int[] members = new int[(int) starts[groups]];
    forEachUsable(rows, weights, (s, k, w) -> {
      if (w > 0) {
        members[(int) fill[ids.id(s, w)]++] = (int) (k - rows.storeStart(s));
      }
    });
    return new WeightedGroups(rows, Arrays.copyOf(ids.storeOf, groups),
        Arrays.copyOf(ids.weightOf, groups), starts, members);
  }

  @FunctionalInterface
  private interface UsableRow {
    void accept(int store, long k, double weight);
  }

  /** Every usable row k (ascending) with its store and weight, from one pass of the weights. */
  private static void forEachUsable(EpochRows rows, RowWeights weights, UsableRow sink) {
    long n = rows.size();
    long[] k = {0};
    long[] done = {0};
    int[] store = {0};
    weights.forEachWeight((w, count) -> {
      long end = done[0] + count;
      for (long row; k[0] < n && (row = rows.row(k[0])) < end; k[0]++) {
        while (k[0] >= rows.storeStart(store[0] + 1)) {
          store[0]++;
        }
        sink.accept(store[0], k[0], w[(int) (row - done[0])]);
      }
      done[0] = end;
    });
  }

  /** Group ids by (store, weight), numbered in order of first appearance, with their counts. */
  private static final class GroupIds {
    private final List<Map<Long, Integer>> byStore = new ArrayList<>();
    int[] storeOf = new int[16];
    double[] weightOf = new double[16];
    long[] countOf = new long[16];
    private int size;

    GroupIds(int stores) {
      for (int s = 0; s < stores; s++) {
        byStore.add(new HashMap<>());
      }
    }

    int size() {
      return size;
    }

    void count(int s, double w) {
      if (w > 0) {
        int id = idOrNew(s, w); // first: it may grow countOf
        countOf[id]++;
      }
    }

    int id(int s, double w) {
      return byStore.get(s).get(Double.doubleToLongBits(w));
    }

    private int idOrNew(int s, double w) {
      Integer id = byStore.get(s).get(Double.doubleToLongBits(w));
      if (id != null) {
        return id;
      }
      if (size == storeOf.length) {
        storeOf = Arrays.copyOf(storeOf, size * 2);
        weightOf = Arrays.copyOf(weightOf, size * 2);
        countOf = Arrays.copyOf(countOf, size * 2);
      }
      storeOf[size] = s;
      weightOf[size] = w;
      byStore.get(s).put(Double.doubleToLongBits(w), size);
      return size++;
    }
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
