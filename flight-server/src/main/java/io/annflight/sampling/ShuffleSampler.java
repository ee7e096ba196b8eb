package io.annflight.sampling;

import io.annflight.schema.Sampler;

/**
 * {@code shuffle}: position p is usable row {@code π(p)}, π the {@link KeyedPermutation} of the
 * usable rows keyed by {@code SplitMix64.state(seed, epoch, 1)}.
 */
final class ShuffleSampler implements EpochSampler {
  static final long SALT = 1;

  private final Sampler.Shuffle spec;

  ShuffleSampler(Sampler.Shuffle spec) {
    this.spec = spec;
  }

  @Override
  public EpochOrder order(EpochRows rows) {
    KeyedPermutation perm =
        new KeyedPermutation(rows.size(), SplitMix64.state(spec.seed(), spec.epoch(), SALT));
    return new EpochOrder() {
      @Override
      public long length() {
        return perm.size();
      }

      @Override
      public long row(long position) {
        return rows.row(perm.apply(position));
      }

      @Override
      public void rows(long first, int count, long[] out, int at) {
        perm.apply(first, count, out, at);
        if (!rows.isAll()) {
          for (int i = at; i < at + count; i++) {
            out[i] = rows.row(out[i]);
          }
        }
      }
    };
  }
}
