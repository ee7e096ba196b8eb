package io.annflight.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.annflight.collection.RowIndex;
import io.annflight.schema.Sampler;
import io.annflight.schema.Split;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The split's parts as rank bitmaps over 10^8 synthetic rows (disjoint, whole, ordered by
 * select), a shuffled part, and weighted draws with replacement against a chi-square bound,
 * uniform within groups.
 */
class SplitAndWeightedTest {

  @Test
  void partsOfAHundredMillionRowsAreDisjointWholeAndSelectable() {
    long[] stores = {50_000_000, 0, 50_000_000};
    RowIndex index = BlockShuffleOrderTest.index(stores);
    RankBitmap train = SplitRows.part(index, stores, new Split(0.2, 9, Split.Part.TRAIN));
    RankBitmap held = SplitRows.part(index, stores, new Split(0.2, 9, Split.Part.HOLDOUT));
    long n = index.nObs();
    for (long r = 0; r < n; r++) {
      if (train.get(r) == held.get(r)) {
        fail("row %d is in %s part", r, train.get(r) ? "both" : "neither");
      }
    }
    assertThat(train.ones() + held.ones()).isEqualTo(n);
    // Binomial(10^8, 0.2): sd 4,000; 5 sd.
    assertThat(Math.abs(held.ones() - 20_000_000L)).isLessThan(20_000);
    long previous = -1;
    for (long k = 0; k < held.ones(); k += 9973) {
      long row = held.select(k);
      assertThat(row).isGreaterThan(previous);
      assertThat(held.get(row)).isTrue();
      assertThat(held.rank(row)).isEqualTo(k);
      previous = row;
    }
    assertThat(held.select(held.ones() - 1)).isEqualTo(lastSet(held, n));
    // A shuffled part: every position a row of the part.
    EpochOrder order = new ShuffleSampler(new Sampler.Shuffle(1, 2))
        .order(EpochRows.of(index, held));
    long[] rows = new long[100_000];
    order.rows(held.ones() - rows.length, rows.length, rows, 0);
    for (long row : rows) {
      assertThat(held.get(row)).isTrue();
    }
  }

  @Test
  void weightedDrawsFollowTheWeightsWithinAChiSquareBound() {
    // Three stores; per store rows of weights 1, 2 and 0 (and 0.5 in the last); 300,000 draws.
    long[] stores = {1000, 10, 5000};
    RowIndex index = BlockShuffleOrderTest.index(stores);
    EpochRows rows = EpochRows.of(index, null);
    double[] weights = new double[(int) index.nObs()];
    for (int r = 0; r < weights.length; r++) {
      weights[r] = r % 3 == 0 ? 1 : r % 3 == 1 ? 2 : (r >= 1010 && r % 7 == 0 ? 0.5 : 0);
    }
    WeightedGroups groups =
        WeightedGroups.of(rows, WeightedGroups.RowWeights.of(weights), List.of("w"));
    int draws = 300_000;
    EpochOrder order = new WeightedSampler(
        new Sampler.Weighted(5, 1, (long) draws, List.of("w"), null, true), r -> groups)
        .order(rows);
    assertThat(order.length()).isEqualTo(draws);
    long[] perRow = new long[weights.length];
    for (long p = 0; p < draws; p++) {
      perRow[(int) order.row(p)]++;
    }
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    // Per (store, weight) class: chi-square over the classes (at most 7 classes, 6 degrees
    // of freedom, mean 6, sd 3.5; 30 is 7 sd).
    java.util.Map<String, double[]> classes = new java.util.TreeMap<>();
    for (int r = 0; r < weights.length; r++) {
      String c = index.storeOf(r) + "/" + weights[r];
      double[] acc = classes.computeIfAbsent(c, k -> new double[2]);
      acc[0] += perRow[r];
      acc[1] += weights[r] / total * draws;
      if (weights[r] == 0) {
        assertThat(perRow[r]).as("row %d of weight 0", r).isZero();
      }
    }
    double chi = 0;
    for (double[] c : classes.values()) {
      if (c[1] > 0) {
        chi += (c[0] - c[1]) * (c[0] - c[1]) / c[1];
      }
    }
    assertThat(chi).isLessThan(30);
    // Within the largest class (store 2, weight 2: 1,667 rows, about 180 draws each), rows
    // are uniform: chi-square with 1,666 degrees of freedom (sd 57.7), bound 5 sd out.
    double want = 0;
    int members = 0;
    for (int r = 1010; r < weights.length; r++) {
      if (weights[r] == 2) {
        want += perRow[r];
        members++;
      }
    }
    want /= members;
    double within = 0;
    for (int r = 1010; r < weights.length; r++) {
      if (weights[r] == 2) {
        within += (perRow[r] - want) * (perRow[r] - want) / want;
      }
    }
    assertThat(within).isLessThan(members - 1 + 5 * Math.sqrt(2.0 * (members - 1)));
  }

  @Test
  void aliasTablesKeepEveryColumnsShare() {
    double[] w = {0.1, 5, 0, 3.3, 1e-9, 2};
    AliasTable t = new AliasTable(w);
    double total = 0;
    for (double x : w) {
      total += x;
    }
    // Each column's probability: (its kept share + the shares aliased to it) / size.
    double[] p = new double[w.length];
    for (int c = 0; c < w.length; c++) {
      double keep = 0;
      for (int k = 0; k < 100_000; k++) {
        if (t.draw((c + 0.5) / w.length, (k + 0.5) / 100_000) == c) {
          keep++;
        } else {
          p[t.draw((c + 0.5) / w.length, 0.999_999_9)] += 1.0 / 100_000 / w.length;
        }
      }
      p[c] += keep / 100_000 / w.length;
    }
    for (int c = 0; c < w.length; c++) {
      assertThat(p[c]).as("column %d", c).isCloseTo(w[c] / total,
          org.assertj.core.data.Offset.offset(2e-5));
    }
  }

  private static long lastSet(RankBitmap b, long n) {
    for (long r = n - 1; r >= 0; r--) {
      if (b.get(r)) {
        return r;
      }
    }
    return -1;
  }

  @Test
  void weightsStreamedInBlocksGroupAsWeightsInOneArray() {
    // 40 distinct weights in each of 3 stores (120 groups, past every initial capacity), the
    // weights handed out 7 at a time so blocks straddle the stores' boundaries.
    long[] stores = {1000, 13, 2500};
    RowIndex index = BlockShuffleOrderTest.index(stores);
    EpochRows rows = EpochRows.of(index, null);
    double[] weights = new double[(int) index.nObs()];
    long positive = 0;
    for (int r = 0; r < weights.length; r++) {
      weights[r] = r % 41 == 0 ? 0 : 1 + r % 40;
      positive += weights[r] > 0 ? 1 : 0;
    }
    WeightedGroups whole =
        WeightedGroups.of(rows, WeightedGroups.RowWeights.of(weights), List.of("w"));
    WeightedGroups blocks = WeightedGroups.of(rows, sink -> {
      double[] block = new double[7];
      for (int from = 0; from < weights.length; from += 7) {
        int n = Math.min(7, weights.length - from);
        System.arraycopy(weights, from, block, 0, n);
        sink.accept(block, n);
      }
    }, List.of("w"));
    assertThat(whole.positive()).isEqualTo(positive);
    assertThat(blocks.positive()).isEqualTo(positive);
    for (long i = 0; i < 20_000; i++) {
      long h0 = SplitMix64.output(7, 3 * i);
      long h1 = SplitMix64.output(7, 3 * i + 1);
      long h2 = SplitMix64.output(7, 3 * i + 2);
      long row = whole.draw(h0, h1, h2);
      assertThat(blocks.draw(h0, h1, h2)).isEqualTo(row);
      assertThat(weights[(int) row]).as("row %d drawn", row).isPositive();
    }
  }
}
