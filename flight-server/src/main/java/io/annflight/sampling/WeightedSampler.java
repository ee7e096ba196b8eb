package io.annflight.sampling;

import io.annflight.collection.LabelWeights;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestLimits;
import io.annflight.schema.Sampler;
import java.util.Arrays;
import java.util.function.Function;

/**
 * {@code weighted}: {@code num_samples} rows drawn with probability proportional to
 * MappedCollection's {@code get_label_weights(obs_keys, scaler)} (SplitMix64 state
 * {@code state(seed, epoch, 3)}). With replacement (as torch's {@code WeightedRandomSampler}):
 * position p is the row drawn by outputs 3p, 3p+1 and 3p+2 of that generator from the
 * {@link WeightedGroups} (alias table over (store, weight) groups, then a uniform row of the
 * group): computed per position, nothing per position held. Without: the Efraimidis-Spirakis
 * keys {@code log(u_k) / w_k} of every usable row k (u_k = output k), the rows of the largest
 * keys in descending key order (ties by k; weight 0 never drawn); this order is materialised,
 * at most {@link RequestLimits#MAX_MATERIALISED_ROWS} usable rows.
 */
final class WeightedSampler implements EpochSampler {
  static final long SALT = 3;

  private final Sampler.Weighted spec;
  private final Function<EpochRows, WeightedGroups> groups;

  /** @param groups the groups of the epoch's rows under this sampler's weights (cached) */
  WeightedSampler(Sampler.Weighted spec, Function<EpochRows, WeightedGroups> groups) {
    this.spec = spec;
    this.groups = groups;
  }

  /** Every row's weight, refused unless every store has the keys. */
  static double[] rowWeights(EpochRows rows, Sampler.Weighted spec) {
    return labelWeights(rows, spec).all();
  }

  /** Every row's weight, streamed (see {@link LabelWeights#forEachWeight}). */
  static LabelWeights labelWeights(EpochRows rows, Sampler.Weighted spec) {
    LabelWeights all = rows.plan().queries().labelWeights(spec.obsKeys(), spec.scaler());
    if (all.size() != rows.plan().nObs()) {
      throw new RequestException("\"sampler.weights.obs_keys\" " + spec.obsKeys()
          + " must be present in every store of the collection (get_label_weights skips the"
          + " stores that lack a key, so its weights would not cover every row)");
    }
    return all;
  }

  @Override
  public EpochOrder order(EpochRows rows) {
    long count = spec.numSamples() != null ? spec.numSamples() : rows.size();
    long state = SplitMix64.state(spec.seed(), spec.epoch(), SALT);
    if (!spec.replacement()) {
      return withoutReplacement(rows, rowWeights(rows, spec), count, state);
    }
    WeightedGroups g = groups.apply(rows);
    return new EpochOrder() {
      @Override
      public long length() {
        return count;
      }

      @Override
      public long row(long position) {
        long i = 3 * position;
        return g.draw(SplitMix64.output(state, i), SplitMix64.output(state, i + 1),
            SplitMix64.output(state, i + 2));
      }
    };
  }

  private static EpochOrder withoutReplacement(EpochRows rows, double[] weights, long count,
      long state) {
    if (rows.size() > RequestLimits.MAX_MATERIALISED_ROWS) {
      throw new RequestException("\"sampler.replacement\": false materialises the epoch's"
          + " order, at most " + RequestLimits.MAX_MATERIALISED_ROWS + " rows; this epoch has "
          + rows.size() + " (draw with replacement, or narrow it with obs_filter or split)");
    }
    int n = (int) rows.size();
    long positive = 0;
    double[] keys = new double[n];
    for (int k = 0; k < n; k++) {
      double w = weights[Math.toIntExact(rows.row(k))];
      double u = SplitMix64.unit(SplitMix64.output(state, k));
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
    int[] out = new int[(int) count];
    for (int i = 0; i < count; i++) {
      out[i] = Math.toIntExact(rows.row(order[i]));
    }
    return EpochOrder.of(out);
  }
}
