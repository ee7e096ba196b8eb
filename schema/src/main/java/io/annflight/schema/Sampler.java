package io.annflight.schema;

import java.util.List;

/**
 * Which order an epoch visits the rows in (the {@code sampler} request key). A pure function of
 * the request: the same stores, filter, split, sampler, seed and epoch give the same order on
 * every server, today and tomorrow. The algorithms and the PRNG are documented in the README.
 */
public sealed interface Sampler
    permits Sampler.Sequential, Sampler.Shuffle, Sampler.BlockShuffle, Sampler.Weighted {

  /** The collection's own order. */
  record Sequential() implements Sampler {}

  /** A uniform random permutation of the rows. */
  record Shuffle(long seed, long epoch) implements Sampler {}

  /**
   * Blocks of {@code blockSize} consecutive rows (never crossing a store) in random order, taken
   * {@code poolBlocks} at a time; the rows of each pool leave in random order.
   */
  record BlockShuffle(long seed, long epoch, int blockSize, int poolBlocks) implements Sampler {
    public static final int DEFAULT_BLOCK_SIZE = 64;
    public static final int DEFAULT_POOL_BLOCKS = 128;
  }

  /**
   * {@code numSamples} rows drawn with probability proportional to MappedCollection's
   * {@code get_label_weights(obsKeys, scaler)}, with or without replacement.
   *
   * @param numSamples null: the number of rows
   */
  record Weighted(long seed, long epoch, Long numSamples, List<String> obsKeys, Double scaler,
      boolean replacement) implements Sampler {
    public Weighted {
      obsKeys = List.copyOf(obsKeys);
    }
  }

  Sampler SEQUENTIAL = new Sequential();
}
