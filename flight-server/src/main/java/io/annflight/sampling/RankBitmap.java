package io.annflight.sampling;

/**
 * A set of positions in {@code [0, n)} as one bit each, with the number of set bits before
 * every 512-bit block (an eighth of a bit per position more): {@link #select(long)} (the k-th
 * set position) in a binary search over the blocks and at most eight words; {@link #rank(long)}
 * (set positions before p) in at most eight words. Immutable once built.
 */
final class RankBitmap {
  private static final int WORDS_PER_BLOCK = 8;

  private final long n;
  private final long[] words;
  private final long[] blockRanks;
  private final long ones;

  private RankBitmap(long n, long[] words) {
    this.n = n;
    this.words = words;
    int blocks = (words.length + WORDS_PER_BLOCK - 1) / WORDS_PER_BLOCK;
    this.blockRanks = new long[blocks + 1];
    long count = 0;
    for (int w = 0; w < words.length; w++) {
      if (w % WORDS_PER_BLOCK == 0) {
        blockRanks[w / WORDS_PER_BLOCK] = count;
      }
      count += Long.bitCount(words[w]);
    }
    blockRanks[blocks] = count;
    this.ones = count;
  }

  /** Collects the set positions, in any order, before {@link #build()}. */
  static final class Builder {
    private final long n;
    private final long[] words;

    Builder(long n) {
      if (n / 64 >= Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("a bitmap of " + n + " positions");
      }
      this.n = n;
      this.words = new long[(int) ((n + 63) >>> 6)];
    }

    void set(long position) {
      words[(int) (position >>> 6)] |= 1L << position;
    }

    RankBitmap build() {
      return new RankBitmap(n, words);
    }
  }

  /** Positions in the domain. */
  long size() {
    return n;
  }

  /** Set positions. */
  long ones() {
    return ones;
  }

  /** Whether a position is set. */
  boolean get(long position) {
    return (words[(int) (position >>> 6)] & (1L << position)) != 0;
  }

  /** Set positions in {@code [0, position)}. */
  long rank(long position) {
    if (position >= n) {
      return ones;
    }
    int w = (int) (position >>> 6);
    int block = w / WORDS_PER_BLOCK;
    long r = blockRanks[block];
    for (int i = block * WORDS_PER_BLOCK; i < w; i++) {
      r += Long.bitCount(words[i]);
    }
    long below = (1L << position) - 1; // the bits of the word before position (shift mod 64)
    return r + Long.bitCount(words[w] & below);
  }

  /** The set position of rank {@code k} (0-based), for {@code 0 <= k < ones()}. */
  long select(long k) {
    int lo = 0;
    int hi = blockRanks.length - 2; // the last block holding a set bit has rank <= k
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (blockRanks[mid] <= k) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    long left = k - blockRanks[lo];
    int w = lo * WORDS_PER_BLOCK;
    while (true) {
      int c = Long.bitCount(words[w]);
      if (left < c) {
        break;
      }
      left -= c;
      w++;
    }
    long word = words[w];
    for (long i = 0; i < left; i++) {
      word &= word - 1; // drop the lowest set bit
    }
    return ((long) w << 6) + Long.numberOfTrailingZeros(word);
  }
}
