package io.annflight.sampling;

import io.annflight.schema.RequestException;
import io.annflight.schema.RequestLimits;
import io.annflight.schema.Sampler;
import java.util.Arrays;

/**
 * {@code weighted}: {@code num_samples} rows drawn with probability proportional to
 * MappedCollection's {@code get_label_weights(obs_keys, scaler)} (PRNG salt 3). With
 * replacement (as torch's {@code WeightedRandomSampler}): each draw is a uniform double times
 * the total weight, located by binary search in the cumulative weights. Without: the
 * Efraimidis-Spirakis keys {@code u^(1/w)} of every row, the rows of the largest keys in
 * descending key order (rows of weight 0 are never drawn).
 */
final class WeightedSampler implements EpochSampler {
  private final Sampler.Weighted spec;

  WeightedSampler(Sampler.Weighted spec) {
    this.spec = spec;
  }

  @Override
  public int[] order(EpochRows rows) {
    double[] all = rows.plan().queries().getLabelWeights(spec.obsKeys(), spec.scaler());
    if (all.length != rows.plan().nObs()) {
      throw new RequestException("\"sampler.weights.obs_keys\" " + spec.obsKeys()
          + " must be present in every store of the collection (get_label_weights skips the"
          + " stores that lack a key, so its weights would not cover every row)");
    }
    int n = rows.size();
    long count = spec.numSamples() != null ? spec.numSamples() : n;
    if (count > RequestLimits.MAX_EPOCH_ROWS) {
      throw new RequestException("\"sampler.num_samples\" of " + count + " passes the bound of "
          + RequestLimits.MAX_EPOCH_ROWS + " rows per epoch");
    }
    SplitMix64 rng = SplitMix64.of(spec.seed(), spec.epoch(), 3);
    return spec.replacement() ? withReplacement(rows, all, (int) count, rng)
        : withoutReplacement(rows, all, (int) count, rng);
  }

  private static int[] withReplacement(EpochRows rows, double[] weights, int count,
      SplitMix64 rng) {
    int n = rows.size();
    double[] cumulative = new double[n];
    double total = 0;
    for (int k = 0; k < n; k++) {
      total += weights[rows.row(k)];
      cumulative[k] = total;
    }
    if (!(total > 0)) {
      throw new RequestException("\"sampler.weights\" are zero for every row of the epoch");
    }
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      double u = rng.nextDouble() * total;
      int k = Arrays.binarySearch(cumulative, u);
      k = k >= 0 ? k + 1 : -k - 1; // first cumulative weight above u
      while (k < n - 1 && weights[rows.row(k)] == 0) {
        k++; // u landed exactly on a zero-weight row's boundary
      }
      out[i] = rows.row(Math.min(k, n - 1));
    }
    return out;
  }

  private static int[] withoutReplacement(EpochRows rows, double[] weights, int count,
      SplitMix64 rng) {
    int n = rows.size();
    long positive = 0;
    double[] keys = new double[n];
    for (int k = 0; k < n; k++) {
      double w = weights[rows.row(k)];
      double u = rng.nextDouble();
      // log(u) / w orders rows as u^(1/w) does, without underflow; weight 0 never wins.
      keys[k] = w > 0 ? Math.log(u) / w : Double.NEGATIVE_INFINITY;
      positive += w > 0 ? 1 : 0;
    }
    if (count > positive) {
      throw new RequestException("\"sampler.num_samples\" of " + count + " is more than the "
          + positive + " rows of positive weight; without replacement each row is drawn once");
    }
    Integer[] order = new Integer[n];
    for (int k = 0; k < n; k++) {
      order[k] = k;
    }
    // Descending key; ties (never in practice) by position, so the order is a pure function.
    Arrays.sort(order, (a, b) -> keys[a] != keys[b] ? Double.compare(keys[b], keys[a])
        : Integer.compare(a, b));
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = rows.row(order[i]);
    }
    return out;
  }
}
