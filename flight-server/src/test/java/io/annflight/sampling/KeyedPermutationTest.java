package io.annflight.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The Feistel bijection: a permutation of [0, n) for every n up to a few thousand and assorted
 * keys (exhaustively), and at 10^9 on samples; uniform-looking by fixed-seed statistics
 * (position-bucket chi-square, correlations) whose bounds lie about five standard deviations
 * out, so they are deterministic and not flaky.
 */
class KeyedPermutationTest {
  private static final long[] KEYS = {0, SplitMix64.state(42, 7, 1), -1};

  @Test
  void everySizeUpToTwoThousandFiveHundredIsPermutedAndInverted() {
    for (long key : KEYS) {
      for (int n = 0; n <= 2500; n++) {
        KeyedPermutation p = new KeyedPermutation(n, key);
        boolean[] seen = new boolean[n];
        long[] batch = new long[n];
        p.apply(0, n, batch, 0);
        for (int x = 0; x < n; x++) {
          long y = p.apply(x);
          // Plain checks: an assertion per element would cost more than the permutations.
          if (y < 0 || y >= n || seen[(int) y] || batch[x] != y || p.inverse(y) != x) {
            fail("n=%d key=%d: position %d goes to %d (batch %d, back to %d)", n, key, x, y,
                batch[x], p.inverse(y));
          }
          seen[(int) y] = true;
        }
      }
    }
  }

  @Test
  void aBillionAndMoreArePermutedOnSamples() {
    for (long n : new long[] {1_000_000_000L, 1L << 30, (1L << 30) + 1, 123_456_789_012L}) {
      KeyedPermutation p = new KeyedPermutation(n, SplitMix64.state(5, 0, 1));
      for (long first : new long[] {0, n / 3, n - 200_000}) {
        long[] ys = new long[200_000];
        p.apply(first, ys.length, ys, 0);
        for (int i = 0; i < ys.length; i++) {
          assertThat(ys[i]).isBetween(0L, n - 1);
          if (i % 97 == 0) {
            assertThat(p.inverse(ys[i])).isEqualTo(first + i);
          }
        }
        long[] sorted = ys.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
          assertThat(sorted[i]).as("n=%d: two positions share row %d", n, sorted[i])
              .isNotEqualTo(sorted[i - 1]);
        }
      }
    }
  }

  @Test
  void positionBucketsAreUniform() {
    // A 16 x 16 table of (bucket of position, bucket of image): chi-square, 225 degrees of
    // freedom (mean 225, sd 21.2); 340 is beyond 5 sd.
    int n = 1_000_003;
    int buckets = 16;
    for (long key : KEYS) {
      KeyedPermutation p = new KeyedPermutation(n, key);
      long[][] table = new long[buckets][buckets];
      for (int x = 0; x < n; x++) {
        table[(int) ((long) x * buckets / n)][(int) (p.apply(x) * buckets / n)]++;
      }
      double chi = 0;
      for (int a = 0; a < buckets; a++) {
        for (int b = 0; b < buckets; b++) {
          double rowTotal = Arrays.stream(table[a]).sum();
          double colTotal = 0;
          for (long[] r : table) {
            colTotal += r[b];
          }
          double want = rowTotal * colTotal / n;
          chi += (table[a][b] - want) * (table[a][b] - want) / want;
        }
      }
      assertThat(chi).as("key %d", key).isLessThan(340);
    }
  }

  @Test
  void imagesAreUncorrelatedWithPositionsAndWithEachOther() {
    // Pearson correlations over 10^6 pairs have sd 0.001; 0.005 is 5 sd.
    int n = 1_000_000;
    for (long key : KEYS) {
      KeyedPermutation p = new KeyedPermutation(n, key);
      double[] y = new double[n];
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = i;
        y[i] = p.apply(i);
      }
      assertThat(Math.abs(correlation(x, y, 0))).as("position vs image").isLessThan(0.005);
      assertThat(Math.abs(correlation(y, y, 1))).as("consecutive images").isLessThan(0.005);
      // Bit-level: the low bit of consecutive images agrees about half the time.
      long agree = 0;
      for (int i = 1; i < n; i++) {
        agree += ((long) y[i] & 1) == ((long) y[i - 1] & 1) ? 1 : 0;
      }
      assertThat(Math.abs(agree - (n - 1) / 2.0)).isLessThan(5 * 500);
    }
  }

  @Test
  void keysGiveDifferentUniformFirstImages() {
    // Where position 0 goes, over 4,000 keys: 10 buckets, chi-square with 9 degrees of freedom
    // (mean 9, sd 4.2); 35 is past 6 sd.
    int n = 1_000_000;
    long[] counts = new long[10];
    for (int seed = 0; seed < 4000; seed++) {
      counts[(int) (new KeyedPermutation(n, SplitMix64.state(seed, 0, 1)).apply(0) * 10 / n)]++;
    }
    double chi = 0;
    for (long c : counts) {
      chi += (c - 400.0) * (c - 400.0) / 400.0;
    }
    assertThat(chi).isLessThan(35);
  }

  private static double correlation(double[] a, double[] b, int lag) {
    int m = a.length - lag;
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < m; i++) {
      ma += a[i];
      mb += b[i + lag];
    }
    ma /= m;
    mb /= m;
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < m; i++) {
      double da = a[i] - ma;
      double db = b[i + lag] - mb;
      sab += da * db;
      saa += da * da;
      sbb += db * db;
    }
    return sab / Math.sqrt(saa * sbb);
  }
}
