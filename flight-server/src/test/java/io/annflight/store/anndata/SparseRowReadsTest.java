package io.annflight.store.anndata;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.SparseRowReads;
import io.annflight.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CSR rows read as stored into caller buffers ({@link MatrixReader#sparseRows}), against
 * anndata's dense rows: rows in file order with duplicates, placed at scattered (reversed,
 * gapped) entries of direct buffers, as a shuffled batch places them.
 */
class SparseRowReadsTest {

  @ParameterizedTest
  @ValueSource(strings = {"csr.h5ad", "csr.zarr", "csc.h5ad", "csc.zarr"})
  void rowsLandWhereAskedWithAnndataValues(String name) {
    JsonNode exp = Fixtures.expected(name);
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name))) {
      int checked = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = exp.get("matrices").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> m = it.next();
        MatrixReader reader = store.matrix(m.getKey()).orElseThrow();
        double[][] all = Fixtures.expectedDense(m.getValue());
        Random random = new Random(m.getKey().hashCode());
        for (int trial = 0; trial < 4; trial++) {
          long[] rows = trial == 0 ? new long[] {0, 1, 2, 2, 3, 10, 11, all.length - 1}
              : random.longs(1 + random.nextInt(2 * all.length), 0, all.length).sorted()
                  .toArray();
          Optional<SparseRowReads> reads = reader.sparseRows(rows);
          if (reader.layout() != MatrixLayout.CSR) {
            assertThat(reads).as("%s is not CSR", m.getKey()).isEmpty();
            continue;
          }
          assertThat(reads).as("%s %s", name, m.getKey()).isPresent();
          check(reads.get(), rows, all, (int) reader.nCols());
          checked++;
        }
      }
      assertThat(checked > 0).isEqualTo(name.startsWith("csr"));
    }
  }

  /** Reads into reversed places with a gap of 3 entries before each row; compares. */
  private static void check(SparseRowReads reads, long[] rows, double[][] all, int nCols) {
    int[] lengths = reads.lengths();
    int n = rows.length;
    int[] at = new int[n];
    int next = 0;
    for (int k = n - 1; k >= 0; k--) {
      next += 3;
      at[k] = next;
      next += lengths[k];
    }
    ByteBuffer indices = ByteBuffer.allocateDirect(next * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer values = ByteBuffer.allocateDirect(next * 4).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(reads.readTo(at, indices, values)).isEmpty(); // scipy writes columns sorted
    for (int k = 0; k < n; k++) {
      double[] row = new double[nCols];
      int prev = -1;
      for (int e = at[k]; e < at[k] + lengths[k]; e++) {
        int c = indices.getInt(e * 4);
        assertThat(c).isGreaterThan(prev);
        prev = c;
        row[c] = values.getFloat(e * 4);
      }
      assertThat(row).as("row %d at position %d", rows[k], k)
          .isEqualTo(all[(int) rows[k]]);
      long stored = Arrays.stream(all[(int) rows[k]]).filter(v -> v != 0).count();
      assertThat((long) lengths[k]).isGreaterThanOrEqualTo(stored);
    }
  }
}
