package io.annflight.sampling;

/**
 * A keyed bijection of {@code [0, n)} computed position by position, in constant memory: an
 * alternating Feistel network over the {@code w}-bit words ({@code w} the bits of {@code n - 1},
 * at least 2), cycle-walked back into range. Because {@code 2^(w-1) < n <= 2^w}, a walk takes
 * fewer than 2 steps on average. A permutation by construction whatever the key; with
 * {@value #ROUNDS} rounds of SplitMix64's mixer it looks uniform (see the unit tests).
 *
 * <p>The word is split into a high half {@code L} of {@code w - w/2} bits and a low half
 * {@code R} of {@code w/2} bits; round {@code i} (0-based) replaces, alternately,
 * {@code L ^= F(i, R)} (even i) and {@code R ^= F(i, L)} (odd i), where {@code F(i, v)} is the
 * top bits (the half's width) of {@code mix(v ^ k_i)} and {@code k_i = mix(state + (i + 1) *
 * 0x9E3779B97F4A7C15)} (the first outputs of SplitMix64 from {@code state}). docs/reference/
 * epochs.md gives the same in full, for other implementations. Immutable, thread-safe.
 */
final class KeyedPermutation {
  static final int ROUNDS = 6;

  private final long n;
  private final int lowBits;
  private final int highBits;
  private final long lowMask;
  private final long[] keys = new long[ROUNDS];

  /**
   * @param n the size of the domain (0 and 1 are the identity)
   * @param state the key: a SplitMix64 state (see {@link SplitMix64#state})
   */
  KeyedPermutation(long n, long state) {
    if (n < 0) {
      throw new IllegalArgumentException("a permutation of " + n + " elements");
    }
    this.n = n;
    int w = Math.max(2, 64 - Long.numberOfLeadingZeros(Math.max(0, n - 1)));
    this.lowBits = w / 2;
    this.highBits = w - lowBits;
    this.lowMask = (1L << lowBits) - 1;
    for (int i = 0; i < ROUNDS; i++) {
      keys[i] = SplitMix64.output(state, i);
    }
  }

  long size() {
    return n;
  }

  /** The image of {@code x} in {@code [0, n)}. */
  long apply(long x) {
    if (n <= 1) {
      return x;
    }
    long y = x;
    do {
      y = encrypt(y);
    } while (y >= n);
    return y;
  }

  /** The images of {@code count} consecutive positions from {@code first}, into {@code out}. */
  void apply(long first, int count, long[] out, int at) {
    for (int i = 0; i < count; i++) {
      out[at + i] = apply(first + i); // inlined by the JIT: one tight loop
    }
  }

  /** The {@code x} with {@code apply(x) == y}. */
  long inverse(long y) {
    if (n <= 1) {
      return y;
    }
    long x = y;
    do {
      x = decrypt(x);
    } while (x >= n);
    return x;
  }

  private long encrypt(long v) {
    long l = v >>> lowBits;
    long r = v & lowMask;
    for (int i = 0; i < ROUNDS; i += 2) {
      l ^= SplitMix64.mix(r ^ keys[i]) >>> (64 - highBits);
      r ^= SplitMix64.mix(l ^ keys[i + 1]) >>> (64 - lowBits);
    }
    return (l << lowBits) | r;
  }

  private long decrypt(long v) {
    long l = v >>> lowBits;
    long r = v & lowMask;
    for (int i = ROUNDS - 2; i >= 0; i -= 2) {
      r ^= SplitMix64.mix(l ^ keys[i + 1]) >>> (64 - lowBits);
      l ^= SplitMix64.mix(r ^ keys[i]) >>> (64 - highBits);
    }
    return (l << lowBits) | r;
  }
}
