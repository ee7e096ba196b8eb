package io.annflight.sampling;

/** {@code sequential}: the rows in collection order. */
final class SequentialSampler implements EpochSampler {
  @Override
  public int[] order(EpochRows rows) {
    return rows.copy();
  }
}
