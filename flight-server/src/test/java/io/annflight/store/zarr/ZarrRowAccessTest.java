package io.annflight.store.zarr;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Row ranges and sorted row lists over every matrix kind, against anndata's values. */
class ZarrRowAccessTest {

  static List<Arguments> matrices() {
    List<Arguments> out = new ArrayList<>();
    for (String store : new String[] {"dense.zarr", "csr.zarr", "csc.zarr", "dtypes.zarr", "legacy.zarr"}) {
      Fixtures.expected(store).get("matrices").fieldNames().forEachRemaining(m -> out.add(Arguments.of(store, m)));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrices")
  void everyRowRangeMatches(String store, String element) {
    double[][] expected = Fixtures.expectedDense(Fixtures.expected(store).get("matrices").get(element));
    try (AnnDataStore s = AnnDataStores.open(Fixtures.store(store))) {
      MatrixReader m = s.matrix(element).orElseThrow();
      int n = (int) m.nRows();
      // Every start/stop pair: covers ranges inside one chunk, across chunk boundaries, to the
      // partial last chunk, and empty ranges.
      for (int a = 0; a <= n; a++) {
        for (int b = a; b <= n; b++) {
          RowBlock block = m.readRows(a, b);
          assertThat(block.nRows()).isEqualTo(b - a);
          assertThat(block.nCols()).isEqualTo((int) m.nCols());
          Fixtures.assertRows(Fixtures.toDense(block), Arrays.copyOfRange(expected, a, b),
              String.format("%s %s rows [%d, %d)", store, element, a, b));
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrices")
  void sortedRowListsWithDuplicatesMatch(String store, String element) {
    double[][] expected = Fixtures.expectedDense(Fixtures.expected(store).get("matrices").get(element));
    Random random = new Random(7);
    try (AnnDataStore s = AnnDataStores.open(Fixtures.store(store))) {
      MatrixReader m = s.matrix(element).orElseThrow();
      int n = (int) m.nRows();
      for (int trial = 0; trial < 200; trial++) {
        long[] rows = random.longs(random.nextInt(2 * n + 1), 0, n).sorted().toArray();
        if (trial == 0) {
          rows = new long[] {0, 0, n - 1, n - 1, n - 1};
        }
        RowBlock block = m.readRows(rows);
        double[][] want = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) {
          want[i] = expected[(int) rows[i]];
        }
        Fixtures.assertRows(Fixtures.toDense(block), want, String.format("%s %s rows %s", store, element, Arrays.toString(rows)));
      }
      assertThat(m.readRows(new long[0]).nRows()).isZero();
    }
  }

  @Test
  void sparseBlocksKeepStoredColumnOrderAndEmptyRows() {
    JsonNode exp = Fixtures.expected("csr.zarr").get("matrices").get("X");
    double[][] expected = Fixtures.expectedDense(exp);
    try (AnnDataStore s = AnnDataStores.open(Fixtures.store("csr.zarr"))) {
      RowBlock.Sparse block = (RowBlock.Sparse) s.matrix("X").orElseThrow().readRows(0, 50);
      int emptyRows = 0;
      for (int r = 0; r < 50; r++) {
        int stored = block.rowOffsets()[r + 1] - block.rowOffsets()[r];
        long nonZero = Arrays.stream(expected[r]).filter(v -> v != 0).count();
        assertThat(stored).as("row %d", r).isEqualTo((int) nonZero);
        emptyRows += stored == 0 ? 1 : 0;
      }
      assertThat(emptyRows).isGreaterThanOrEqualTo(3);
      assertThat(block.rowOffsets()[0]).isZero();
      assertThat(block.rowOffsets()[50]).isEqualTo(block.nnz());
    }
  }

  @Test
  void zeroRowStoreReadsEmptyBlocks() {
    try (AnnDataStore s = AnnDataStores.open(Fixtures.store("empty.zarr"))) {
      assertThat(s.nObs()).isZero();
      assertThat(s.obs().index()).isEmpty();
      MatrixReader x = s.matrix("X").orElseThrow();
      assertThat(x.readRows(0, 0).nRows()).isZero();
      assertThat(x.readRows(0, 0).nCols()).isEqualTo(24);
      assertThat(x.readRows(new long[0]).nRows()).isZero();
      assertThat(s.matrix("obsm/X_pca").orElseThrow().readRows(0, 0).nCols()).isEqualTo(5);
      assertThatThrownBy(() -> x.readRows(0, 1)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("X");
    }
  }

  @Test
  void rejectsRowsOutsideTheMatrixOrUnsorted() {
    try (AnnDataStore s = AnnDataStores.open(Fixtures.store("dense.zarr"))) {
      MatrixReader x = s.matrix("X").orElseThrow();
      assertThatThrownBy(() -> x.readRows(5, 61)).isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> x.readRows(6, 5)).isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> x.readRows(new long[] {3, 2})).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> x.readRows(new long[] {60})).isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> s.matrix("uns/foo")).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void eightThreadsSharingOneStoreReadIdenticalValues() throws Exception {
    List<String[]> targets = List.of(
        new String[] {"dense.zarr", "X"}, new String[] {"csr.zarr", "X"}, new String[] {"csr.zarr", "raw/X"},
        new String[] {"csc.zarr", "X"}, new String[] {"dtypes.zarr", "layers/X_lz4"});
    for (String[] t : targets) {
      double[][] expected = Fixtures.expectedDense(Fixtures.expected(t[0]).get("matrices").get(t[1]));
      try (AnnDataStore s = AnnDataStores.open(Fixtures.store(t[0]))) {
        MatrixReader m = s.matrix(t[1]).orElseThrow();
        int n = (int) m.nRows();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
          List<Future<Integer>> results = new ArrayList<>();
          for (int thread = 0; thread < 8; thread++) {
            long seed = thread;
            results.add(pool.submit(() -> {
              Random random = new Random(seed);
              int checked = 0;
              for (int i = 0; i < 300; i++) {
                int a = random.nextInt(n + 1);
                int b = a + random.nextInt(n - a + 1);
                Fixtures.assertRows(Fixtures.toDense(m.readRows(a, b)), Arrays.copyOfRange(expected, a, b), "rows");
                checked++;
              }
              return checked;
            }));
          }
          for (Future<Integer> f : results) {
            assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(300);
          }
        } finally {
          pool.shutdownNow();
        }
      }
    }
  }
}
