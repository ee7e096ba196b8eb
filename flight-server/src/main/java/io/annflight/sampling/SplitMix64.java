package io.annflight.sampling;

/**
 * The PRNG of every epoch order: SplitMix64 (Steele, Lea and Flood, 2014), chosen because it is
 * tiny, fast, passes BigCrush and is specified exactly by its few lines, so any implementation
 * in any language reproduces an order bit for bit. Not thread-safe; one per order being built.
 */
final class SplitMix64 {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private long state;

  SplitMix64(long seed) {
    this.state = seed;
  }

  /**
   * The generator for one use of a request: state = mix(seed) ^ mix(epoch ^ GOLDEN * salt), so
   * seeds, epochs and the uses within one order (salt) never share a stream.
   */
  static SplitMix64 of(long seed, long epoch, long salt) {
    return new SplitMix64(mix(seed) ^ mix(epoch ^ (GOLDEN * salt)));
  }

  /** SplitMix64's output function, also used alone as a hash of a row number. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound), unbiased (rejection of the top partial range). */
  int nextInt(int bound) {
    long limit = Long.MAX_VALUE - Long.MAX_VALUE % bound;
    long r;
    do {
      r = nextLong() >>> 1;
    } while (r >= limit);
    return (int) (r % bound);
  }

  /** Fisher-Yates (Durstenfeld): a uniform permutation of {@code a[from, to)} in place. */
  void shuffle(int[] a, int from, int to) {
    for (int i = to - 1; i > from; i--) {
      int j = from + nextInt(i - from + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
