package io.annflight.sampling;

/**
 * One kind of {@code sampler}: orders the rows an epoch may use. A new kind is one class.
 */
interface EpochSampler {

  /**
   * The epoch's rows in order.
   *
   * @param rows the rows the epoch may use (after the split), ascending collection rows
   */
  int[] order(EpochRows rows);
}
