package io.annflight.store.h5ad;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.MatrixReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One store shared by 8 threads reading random blocks: every block matches anndata. */
class H5adConcurrencyTest {

  private static final String[] ELEMENTS = {"X", "layers/counts", "obsm/X_pca", "obsm/X_umap",
      "raw/X"};

  @Test
  void eightThreadsShareOneStore() throws Exception {
    for (String name : new String[] {"dense", "csr", "csc"}) {
      JsonNode exp = Fixtures.expected(name + ".h5ad");
      try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name + ".h5ad"))) {
        List<String> elements = new ArrayList<>();
        List<double[][]> want = new ArrayList<>();
        for (String e : ELEMENTS) {
          if (exp.get("matrices").has(e)) {
            elements.add(e);
            want.add(Fixtures.expectedDense(exp.get("matrices").get(e)));
          }
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
          List<Future<Integer>> results = new ArrayList<>();
          for (int t = 0; t < 8; t++) {
            int seed = t;
            results.add(pool.submit(reader(store, elements, want, seed)));
          }
          int checked = 0;
          for (Future<Integer> f : results) {
            checked += f.get(60, TimeUnit.SECONDS);
          }
          assertThat(checked).isEqualTo(8 * 200);
        } finally {
          pool.shutdownNow();
        }
      }
    }
  }

  private static Callable<Integer> reader(AnnDataStore store, List<String> elements,
      List<double[][]> want, int seed) {
    return () -> {
      Random random = new Random(seed);
      for (int i = 0; i < 200; i++) {
        int e = random.nextInt(elements.size());
        MatrixReader m = store.matrix(elements.get(e)).orElseThrow();
        double[][] all = want.get(e);
        int n = all.length;
        if (random.nextBoolean()) {
          int start = random.nextInt(n + 1);
          int stop = start + random.nextInt(n - start + 1);
          assertThat(Fixtures.toDense(m.readRows(start, stop)))
              .isDeepEqualTo(Arrays.copyOfRange(all, start, stop));
        } else {
          long[] rows = random.longs(random.nextInt(20), 0, n).sorted().toArray();
          double[][] expected = new double[rows.length][];
          for (int k = 0; k < rows.length; k++) {
            expected[k] = all[(int) rows[k]];
          }
          assertThat(Fixtures.toDense(m.readRows(rows))).isDeepEqualTo(expected);
        }
      }
      return 200;
    };
  }
}
