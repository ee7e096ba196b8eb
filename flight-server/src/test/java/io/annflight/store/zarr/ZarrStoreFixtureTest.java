package io.annflight.store.zarr;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

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
      assertThat(store.layerNames()).containsExactlyElementsOf(texts(exp.get("layers")));
      assertThat(store.obsmNames()).containsExactlyElementsOf(texts(exp.get("obsm")));
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
      assertFrame(store.obs(), exp.get("obs"));
      assertFrame(store.var(), exp.get("var"));
      if (!exp.get("raw_var").isNull()) {
        assertFrame(store.rawVar().orElseThrow(), exp.get("raw_var"));
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

  static void assertFrame(DataFrameReader frame, JsonNode exp) {
    String at = frame.elementPath();
    assertThat(frame.index()).as(at + " index").containsExactlyElementsOf(texts(exp.get("index")));
    assertThat(frame.length()).isEqualTo(exp.get("index").size());
    assertThat(frame.columnNames()).as(at + " columns").containsExactlyElementsOf(texts(exp.get("column_order")));
    Iterator<Map.Entry<String, JsonNode>> it = exp.get("columns").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      assertColumn(at + "/" + e.getKey(), frame.column(e.getKey()), e.getValue());
    }
  }

  static void assertColumn(String at, ColumnData col, JsonNode exp) {
    String kind = exp.get("kind").asText();
    JsonNode values = exp.get("values");
    assertThat(col.length()).as(at).isEqualTo(values.size());
    for (int i = 0; i < values.size(); i++) {
      assertThat(col.isMissing(i)).as(at + " missing at " + i).isEqualTo(values.get(i).isNull());
    }
    switch (kind) {
      case "categorical" -> {
        assertThat(col).as(at).isInstanceOf(ColumnData.Categorical.class);
        ColumnData.Categorical c = (ColumnData.Categorical) col;
        assertThat(c.ordered()).as(at).isEqualTo(exp.get("ordered").asBoolean());
        List<Integer> codes = new ArrayList<>();
        exp.get("codes").forEach(n -> codes.add(n.asInt()));
        assertThat(c.codes()).as(at + " codes").containsExactly(codes.stream().mapToInt(Integer::intValue).toArray());
        assertValues(at + " categories", c.categories(), exp.get("categories"), exp.get("dtype").asText());
      }
      case "string", "int", "float", "bool" -> assertValues(at, col, values, exp.get("dtype").asText());
      default -> throw new AssertionError(at + ": unknown expected kind " + kind);
    }
  }

  /** Non-categorical values (nulls are checked through isMissing above). */
  static void assertValues(String at, ColumnData col, JsonNode values, String dtype) {
    assertThat(col.length()).as(at).isEqualTo(values.size());
    for (int i = 0; i < values.size(); i++) {
      JsonNode v = values.get(i);
      if (v.isNull()) {
        assertThat(col.isMissing(i)).as(at + " at " + i).isTrue();
        continue;
      }
      if (col instanceof ColumnData.Strings s) {
        assertThat(dtype).as(at).isIn("str", "object");
        assertThat(s.values()[i]).as(at + " at " + i).isEqualTo(v.asText());
      } else if (col instanceof ColumnData.Integers n) {
        assertThat(n.type().numpyName()).as(at).isEqualTo(dtype);
        assertThat(n.values()[i]).as(at + " at " + i).isEqualTo(v.asLong());
      } else if (col instanceof ColumnData.Floats f) {
        assertThat(f.type().numpyName()).as(at).isEqualTo(dtype);
        assertThat(f.values()[i]).as(at + " at " + i).isEqualTo(v.asDouble());
      } else if (col instanceof ColumnData.Booleans b) {
        assertThat(dtype).as(at).isEqualTo("bool");
        assertThat(b.values()[i]).as(at + " at " + i).isEqualTo(v.asBoolean());
      } else {
        throw new AssertionError(at + ": unexpected column type " + col);
      }
    }
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
