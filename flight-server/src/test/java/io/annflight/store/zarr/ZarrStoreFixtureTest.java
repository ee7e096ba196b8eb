package io.annflight.store.zarr;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import io.annflight.testing.StoreAssertions;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every committed Zarr fixture read in full and compared with what anndata read from it
 * ({@code <store>.expected.json}): frames, element lists, every matrix.
 */
class ZarrStoreFixtureTest {

  static final List<String> STORES = List.of(Fixtures.ZARR_STORES);

  @ParameterizedTest
  @FieldSource("STORES")
  void storeShapeAndElementsMatchAnndata(String name) {
    JsonNode exp = Fixtures.expected(name);
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name))) {
      assertThat(store.format()).isEqualTo("zarr");
      assertThat(store.nObs()).isEqualTo(exp.get("n_obs").asLong());
      assertThat(store.var().length()).isEqualTo(exp.get("n_vars").asLong());
      assertThat(store.layerNames()).containsExactlyElementsOf(StoreAssertions.texts(exp.get("layers")));
      assertThat(store.obsmNames()).containsExactlyElementsOf(StoreAssertions.texts(exp.get("obsm")));
      assertThat(store.hasRaw()).isEqualTo(exp.get("has_raw").asBoolean());
      assertThat(store.rawVar().isPresent()).isEqualTo(!exp.get("raw_var").isNull());
      assertThat(store.matrix("layers/not_there")).isEmpty();
    }
  }

  @ParameterizedTest
  @FieldSource("STORES")
  void dataFramesMatchAnndata(String name) {
    JsonNode exp = Fixtures.expected(name);
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name))) {
      StoreAssertions.assertFrame(store.obs(), exp.get("obs"));
      StoreAssertions.assertFrame(store.var(), exp.get("var"));
      if (!exp.get("raw_var").isNull()) {
        StoreAssertions.assertFrame(store.rawVar().orElseThrow(), exp.get("raw_var"));
      }
    }
  }

  @ParameterizedTest
  @FieldSource("STORES")
  void everyMatrixMatchesAnndata(String name) {
    JsonNode exp = Fixtures.expected(name);
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name))) {
      Iterator<Map.Entry<String, JsonNode>> it = exp.get("matrices").fields();
      int checked = 0;
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode m = e.getValue();
        Optional<MatrixReader> reader = store.matrix(e.getKey());
        assertThat(reader).as(e.getKey()).isPresent();
        MatrixReader r = reader.get();
        assertThat(r.elementPath()).isEqualTo(e.getKey());
        assertThat(r.layout()).as(e.getKey()).isEqualTo(MatrixLayout.valueOf(m.get("layout").asText().toUpperCase()));
        assertThat(r.elementType().numpyName()).as(e.getKey()).isEqualTo(m.get("dtype").asText());
        assertThat(new long[] {r.nRows(), r.nCols()})
            .containsExactly(m.get("shape").get(0).asLong(), m.get("shape").get(1).asLong());
        double[][] got = Fixtures.toDense(r.readRows(0, r.nRows()));
        Fixtures.assertRows(got, Fixtures.expectedDense(m), name + " " + e.getKey());
        checked++;
      }
      assertThat(checked).isGreaterThan(0);
    }
  }

}
