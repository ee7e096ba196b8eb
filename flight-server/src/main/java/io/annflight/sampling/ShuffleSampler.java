package io.annflight.sampling;

import io.annflight.schema.Sampler;

/** {@code shuffle}: one Fisher-Yates permutation of all the rows (PRNG salt 1). */
final class ShuffleSampler implements EpochSampler {
  private final Sampler.Shuffle spec;

  ShuffleSampler(Sampler.Shuffle spec) {
    this.spec = spec;
  }

  @Override
  public int[] order(EpochRows rows) {
    int[] out = rows.copy();
    SplitMix64.of(spec.seed(), spec.epoch(), 1).shuffle(out, 0, out.length);
    return out;
  }
}
