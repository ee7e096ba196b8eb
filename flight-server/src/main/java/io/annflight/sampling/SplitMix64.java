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
    return new SplitMix64(state(seed, epoch, salt));
  }

  /** The state {@link #of} starts from. */
  static long state(long seed, long epoch, long salt) {
    return mix(seed) ^ mix(epoch ^ (GOLDEN * salt));
  }

  /**
   * Output {@code i} (0-based) of the generator started at {@code state}, without the ones
   * before it: SplitMix64's state after i + 1 steps is state + (i + 1) * GOLDEN.
   */
  static long output(long state, long i) {
    return mix(state + (i + 1) * GOLDEN);
  }

  /** A 64-bit value as a double in [0, 1) with 53 random bits. */
  static double unit(long bits) {
    return (bits >>> 11) * 0x1.0p-53;
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
    return unit(nextLong());
  }
}
