package io.annflight.store.h5ad;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Partial row reads of every matrix of every fixture, against anndata's dense rows. */
class H5adRowAccessTest {

  @ParameterizedTest
  @ValueSource(strings = {"dense", "csr", "csc", "dtypes", "legacy", "f_same_var"})
  void rangesAndSortedListsMatchAnndata(String name) {
    JsonNode exp = Fixtures.expected(name + ".h5ad");
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name + ".h5ad"))) {
      for (Iterator<Map.Entry<String, JsonNode>> it = exp.get("matrices").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> m = it.next();
        MatrixReader reader = store.matrix(m.getKey()).orElseThrow();
        double[][] all = Fixtures.expectedDense(m.getValue());
        checkRanges(reader, all);
        checkLists(reader, all, new Random(name.hashCode() + m.getKey().hashCode()));
      }
    }
  }

  private static void checkRanges(MatrixReader reader, double[][] all) {
    int n = all.length;
    // Dense X of 'dense' is chunked 16 rows high: these cross one or more chunk boundaries,
    // start and stop inside chunks, and cover empty and single-row ranges.
    int[][] ranges = {{0, 0}, {n, n}, {0, 1}, {n - 1, n}, {10, 40}, {15, 17}, {16, 32},
        {3, n}, {0, n - 5}, {7, 8}};
    for (int[] r : ranges) {
      int start = Math.min(r[0], n);
      int stop = Math.min(Math.max(r[1], start), n);
      RowBlock block = reader.readRows(start, stop);
      assertThat(block.nRows()).isEqualTo(stop - start);
      assertThat(block.nCols()).isEqualTo(reader.nCols());
      assertThat(Fixtures.toDense(block))
          .as("%s rows [%d, %d)", reader.elementPath(), start, stop)
          .isDeepEqualTo(Arrays.copyOfRange(all, start, stop));
    }
  }

  private static void checkLists(MatrixReader reader, double[][] all, Random random) {
    int n = all.length;
    for (int trial = 0; trial < 5; trial++) {
      int k = trial == 0 ? 0 : 1 + random.nextInt(2 * n);
      long[] rows = random.longs(k, 0, n).sorted().toArray();
      if (trial == 1 && k > 2) {
        rows[1] = rows[0]; // certain duplicate
        rows[2] = rows[0];
      }
      double[][] want = new double[k][];
      for (int i = 0; i < k; i++) {
        want[i] = all[(int) rows[i]];
      }
      RowBlock block = reader.readRows(rows);
      assertThat(block.nRows()).isEqualTo(k);
      assertThat(Fixtures.toDense(block))
          .as("%s rows %s", reader.elementPath(), Arrays.toString(rows))
          .isDeepEqualTo(want);
    }
    long[] everyRowTwice = new long[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      everyRowTwice[i] = i / 2;
    }
    double[][] want = new double[2 * n][];
    for (int i = 0; i < 2 * n; i++) {
      want[i] = all[i / 2];
    }
    assertThat(Fixtures.toDense(reader.readRows(everyRowTwice))).isDeepEqualTo(want);
  }

  @ParameterizedTest
  @ValueSource(strings = {"X", "layers/counts", "obsm/X_pca"})
  void emptyStoreGivesEmptyBlocks(String element) {
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store("empty.h5ad"))) {
      store.matrix(element).ifPresent(reader -> {
        assertThat(reader.nRows()).isZero();
        assertThat(reader.readRows(0, 0).nRows()).isZero();
        assertThat(reader.readRows(new long[0]).nRows()).isZero();
      });
      assertThat(store.matrix("X")).isPresent();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"X", "layers/counts"})
  void badRequestsAreRejected(String element) {
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store("csr.h5ad"))) {
      MatrixReader reader = store.matrix(element).orElseThrow();
      long n = reader.nRows();
      assertThatThrownBy(() -> reader.readRows(-1, 2))
          .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining(element);
      assertThatThrownBy(() -> reader.readRows(0, n + 1))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> reader.readRows(new long[] {3, 2}))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sorted");
      assertThatThrownBy(() -> reader.readRows(new long[] {n}))
          .isInstanceOf(IndexOutOfBoundsException.class);
    }
  }
}
