package io.annflight.sampling;

/**
 * One kind of {@code sampler}: orders the rows an epoch may use, as a function from positions
 * to rows (nothing per row is held). A new kind is one class.
 */
interface EpochSampler {

  /**
   * The epoch's order.
   *
   * @param rows the rows the epoch may use (after the split)
   */
  EpochOrder order(EpochRows rows);
}
