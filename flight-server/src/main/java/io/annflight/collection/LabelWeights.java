package io.annflight.collection;

import io.annflight.schema.RequestException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MappedCollection's {@code get_label_weights(obs_keys, scaler)}: per row {@code 1/count} of
 * its label ({@code scaler/(count+scaler)} with a scaler), the labels of several keys zipped
 * (shortest wins) and joined with {@code "__"}. Computed in two passes over the labels' ids (one
 * to count, one to hand out the weights, a block at a time), so memory does not grow with the
 * rows: the counts are kept per distinct label combination only.
 */
public final class LabelWeights {
  /** Combinations counted in a plain array up to this many; in a hash map beyond. */
  private static final long DENSE_COMBINATIONS = 1 << 22;

  private final List<KeyLabels> keys = new ArrayList<>();
  private final long[] radix;
  private final long size;
  private final Double scaler;
  private int[] denseCounts;
  private final Map<Long, Integer> sparseCounts = new HashMap<>();
  /** Combinations in order of first appearance. */
  private final List<Long> order = new ArrayList<>();

  /** Counts the labels of {@code obsKeys} over the plan's rows (the first pass). */
  public LabelWeights(CollectionPlan plan, List<String> obsKeys, Double scaler) {
    if (obsKeys.isEmpty()) {
      throw new RequestException("get_label_weights needs obs_keys");
    }
    this.scaler = scaler;
    long n = Long.MAX_VALUE;
    for (String key : obsKeys) {
      KeyLabels k = new KeyLabels(plan, key);
      keys.add(k);
      n = Math.min(n, k.size());
    }
    this.size = n;
    radix = new long[keys.size()];
    long combinations = 1;
    for (int k = keys.size() - 1; k >= 0; k--) {
      radix[k] = combinations;
      try {
        combinations = Math.multiplyExact(combinations, Math.max(1, keys.get(k).distinct()));
      } catch (ArithmeticException e) {
        throw new RequestException("get_label_weights: the labels of " + obsKeys
            + " have too many combinations to count");
      }
    }
    if (combinations <= DENSE_COMBINATIONS) {
      denseCounts = new int[(int) combinations];
    }
    forEachBlock((combos, count) -> {
      for (int i = 0; i < count; i++) {
        if (increment(combos[i]) == 1) {
          order.add(combos[i]);
        }
      }
    });
    if (keys.size() > 1) {
      countByText();
    }
  }

  /**
   * Combinations whose joined texts are equal count together, as MappedCollection counts the
   * joined strings ("a__b" + "c" and "a" + "b__c" are one label there).
   */
  private void countByText() {
    Map<String, Integer> byText = new HashMap<>();
    for (long combo : order) {
      byText.merge(text(combo), count(combo), Integer::sum);
    }
    for (long combo : order) {
      int merged = byText.get(text(combo));
      if (denseCounts != null) {
        denseCounts[(int) combo] = merged;
      } else {
        sparseCounts.put(combo, merged);
      }
    }
  }

  /** Receives the next {@code count} values of a block. */
  @FunctionalInterface
  public interface WeightBlock {
    void accept(double[] weights, int count);
  }

  @FunctionalInterface
  private interface ComboBlock {
    void accept(long[] combos, int count);
  }

  /** Rows weighed: the shortest key's labels. */
  public long size() {
    return size;
  }

  /** Hands out every row's weight in order, a block at a time (the second pass). */
  public void forEachWeight(WeightBlock sink) {
    double[] weights = new double[KeyLabels.BLOCK];
    forEachBlock((combos, count) -> {
      for (int i = 0; i < count; i++) {
        weights[i] = weight(count(combos[i]));
      }
      sink.accept(weights, count);
    });
  }

  /** Every row's weight in one array (for callers that keep them all, e.g. samplers). */
  public double[] all() {
    if (size > Integer.MAX_VALUE - 8) {
      throw new RequestException("get_label_weights: " + size + " rows do not fit one array");
    }
    double[] out = new double[(int) size];
    int[] at = {0};
    forEachWeight((w, count) -> {
      System.arraycopy(w, 0, out, at[0], count);
      at[0] += count;
    });
    return out;
  }

  /** The weight of each distinct joined label, in order of first appearance. */
  public Map<String, Double> categories() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (long combo : order) {
      out.putIfAbsent(text(combo), weight(count(combo)));
    }
    return out;
  }

  private String text(long combo) {
    StringBuilder b = new StringBuilder();
    for (int k = 0; k < keys.size(); k++) {
      if (k > 0) {
        b.append("__");
      }
      b.append(keys.get(k).text((int) (combo / radix[k] % Math.max(1,
          keys.get(k).distinct()))));
    }
    return b.toString();
  }

  private double weight(int count) {
    return scaler == null ? 1.0 / count : scaler / (count + scaler);
  }

  private int increment(long combo) {
    if (denseCounts != null) {
      return ++denseCounts[(int) combo];
    }
    return sparseCounts.merge(combo, 1, Integer::sum);
  }

  private int count(long combo) {
    return denseCounts != null ? denseCounts[(int) combo] : sparseCounts.get(combo);
  }

  /** The rows' label combinations in order, a block at a time. */
  private void forEachBlock(ComboBlock sink) {
    List<KeyLabels.Cursor> cursors = keys.stream().map(KeyLabels::cursor).toList();
    int[] ids = new int[KeyLabels.BLOCK];
    long[] combos = new long[KeyLabels.BLOCK];
    for (long done = 0; done < size; ) {
      int count = (int) Math.min(KeyLabels.BLOCK, size - done);
      java.util.Arrays.fill(combos, 0, count, 0L);
      for (int k = 0; k < keys.size(); k++) {
        cursors.get(k).next(ids, count);
        for (int i = 0; i < count; i++) {
          combos[i] += ids[i] * radix[k];
        }
      }
      sink.accept(combos, count);
      done += count;
    }
  }
}
