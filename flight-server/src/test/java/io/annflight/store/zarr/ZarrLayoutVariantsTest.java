package io.annflight.store.zarr;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Zarr layouts beyond what anndata writes by default (tools/fixtures/make_zarr_variants.py):
 * Fortran order, big-endian dtypes, '/' separator, NaN fill with missing chunks, fixed-width
 * unicode, int64 CSR indices, a sparse obsm. Compared with anndata's reading of the same store.
 */
class ZarrLayoutVariantsTest {

  static Path store;
  static JsonNode expected;

  @BeforeAll
  static void load() throws IOException, URISyntaxException {
    Path dir = Path.of(ZarrLayoutVariantsTest.class.getResource("/zarr-variants").toURI());
    store = dir.resolve("variants.zarr");
    expected = new ObjectMapper().readTree(dir.resolve("variants.zarr.expected.json").toFile());
  }

  @Test
  void framesMatchAnndata() {
    try (AnnDataStore s = AnnDataStores.open(store)) {
      io.annflight.testing.StoreAssertions.assertFrame(s.obs(), expected.get("obs"));
      io.annflight.testing.StoreAssertions.assertFrame(s.var(), expected.get("var"));
      assertThat(s.layerNames()).containsExactlyElementsOf(io.annflight.testing.StoreAssertions.texts(expected.get("layers")));
    }
  }

  @Test
  void everyMatrixAndRowRangeMatchesAnndata() {
    try (AnnDataStore s = AnnDataStores.open(store)) {
      Iterator<Map.Entry<String, JsonNode>> it = expected.get("matrices").fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        MatrixReader m = s.matrix(e.getKey()).orElseThrow();
        assertThat(m.layout()).as(e.getKey()).isEqualTo(MatrixLayout.valueOf(e.getValue().get("layout").asText().toUpperCase()));
        assertThat(m.elementType().numpyName()).as(e.getKey()).isEqualTo(e.getValue().get("dtype").asText());
        double[][] want = Fixtures.expectedDense(e.getValue());
        int n = (int) m.nRows();
        for (int a = 0; a <= n; a++) {
          for (int b = a; b <= n; b++) {
            Fixtures.assertRows(Fixtures.toDense(m.readRows(a, b)), Arrays.copyOfRange(want, a, b),
                String.format("%s [%d, %d)", e.getKey(), a, b));
          }
        }
        long[] rows = {0, 4, 5, 5, 9, 10, 11, 11};
        double[][] picked = Arrays.stream(rows).mapToObj(r -> want[(int) r]).toArray(double[][]::new);
        Fixtures.assertRows(Fixtures.toDense(m.readRows(rows)), picked, e.getKey());
      }
    }
  }

  @Test
  void bigEndianValuesAreHandedOutLittleEndian() {
    try (AnnDataStore s = AnnDataStores.open(store)) {
      RowBlock.Dense block = (RowBlock.Dense) s.matrix("layers/big_endian_i4").orElseThrow().readRows(0, 2);
      assertThat(block.values().isLittleEndian()).isTrue();
      JsonNode row0 = expected.get("matrices").get("layers/big_endian_i4").get("dense").get(0);
      assertThat(block.values().getLong(1)).isEqualTo(row0.get(1).asLong());
    }
  }
}
