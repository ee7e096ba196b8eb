package io.annflight.store.h5ad;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every h5ad fixture, read whole, against what anndata read from it. */
class H5adFixtureTest {

  @ParameterizedTest
  @ValueSource(strings = {"dense", "csr", "csc", "empty", "legacy", "dtypes", "f_same_var"})
  void storeMatchesAnndata(String name) {
    JsonNode exp = Fixtures.expected(name + ".h5ad");
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store(name + ".h5ad"))) {
      assertThat(store.format()).isEqualTo("h5ad");
      assertThat(store.nObs()).isEqualTo(exp.get("n_obs").asLong());
      assertThat(store.var().length()).isEqualTo(exp.get("n_vars").asLong());
      assertThat(store.hasRaw()).isEqualTo(exp.get("has_raw").asBoolean());
      assertThat(store.layerNames()).isEqualTo(strings(exp.get("layers")));
      assertThat(store.obsmNames()).isEqualTo(strings(exp.get("obsm")));

      assertFrame(store.obs(), exp.get("obs"));
      assertFrame(store.var(), exp.get("var"));
      if (exp.get("raw_var").isNull()) {
        assertThat(store.rawVar()).isEmpty();
      } else {
        assertFrame(store.rawVar().orElseThrow(), exp.get("raw_var"));
      }

      for (Iterator<Map.Entry<String, JsonNode>> it = exp.get("matrices").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> m = it.next();
        assertMatrix(store.matrix(m.getKey()).orElseThrow(), m.getValue());
      }
      assertThat(store.matrix("layers/no_such_layer")).isEmpty();
    }
  }

  private static void assertMatrix(MatrixReader reader, JsonNode exp) {
    String what = reader.elementPath();
    assertThat(reader.layout()).as(what)
        .isEqualTo(MatrixLayout.valueOf(exp.get("layout").asText().toUpperCase()));
    assertThat(reader.elementType().numpyName()).as(what).isEqualTo(exp.get("dtype").asText());
    assertThat(reader.nRows()).as(what).isEqualTo(exp.get("shape").get(0).asLong());
    assertThat(reader.nCols()).as(what).isEqualTo(exp.get("shape").get(1).asLong());
    double[][] actual = Fixtures.toDense(reader.readRows(0, reader.nRows()));
    assertThat(actual).as(what).isDeepEqualTo(Fixtures.expectedDense(exp));
  }

  static void assertFrame(DataFrameReader frame, JsonNode exp) {
    String where = frame.elementPath();
    assertThat(frame.index()).as(where + " index").isEqualTo(strings(exp.get("index")));
    assertThat(frame.length()).isEqualTo(exp.get("index").size());
    assertThat(frame.columnNames()).as(where + " columns")
        .isEqualTo(strings(exp.get("column_order")));
    for (String name : frame.columnNames()) {
      assertColumn(where + "/" + name, frame.column(name), exp.get("columns").get(name));
    }
  }

  private static void assertColumn(String what, ColumnData col, JsonNode exp) {
    String kind = exp.get("kind").asText();
    boolean nullable = exp.get("nullable").asBoolean();
    JsonNode values = exp.get("values");
    assertThat(col.length()).as(what).isEqualTo(values.size());
    switch (kind) {
      case "categorical" -> {
        ColumnData.Categorical cat = (ColumnData.Categorical) col;
        assertThat(cat.ordered()).as(what).isEqualTo(exp.get("ordered").asBoolean());
        List<Integer> codes = new ArrayList<>();
        exp.get("codes").forEach(c -> codes.add(c.asInt()));
        assertThat(cat.codes()).as(what + " codes")
            .containsExactly(codes.stream().mapToInt(Integer::intValue).toArray());
        assertPlainValues(what + " categories", cat.categories(), exp.get("categories"),
            exp.get("dtype").asText());
        for (int i = 0; i < values.size(); i++) {
          assertThat(cat.isMissing(i)).as(what + " row " + i).isEqualTo(values.get(i).isNull());
        }
      }
      default -> {
        assertThat(col).as(what).isNotInstanceOf(ColumnData.Categorical.class);
        assertPlainValues(what, col, values, exp.get("dtype").asText());
        if (!nullable && !kind.equals("float") && !kind.equals("string")) {
          for (int i = 0; i < col.length(); i++) {
            assertThat(col.isMissing(i)).as(what).isFalse();
          }
        }
      }
    }
  }

  /** Values of a non-categorical column (or the categories of one). */
  private static void assertPlainValues(String what, ColumnData col, JsonNode values,
      String dtype) {
    assertThat(col.length()).as(what).isEqualTo(values.size());
    for (int i = 0; i < values.size(); i++) {
      JsonNode v = values.get(i);
      String at = what + " row " + i;
      assertThat(col.isMissing(i)).as(at + " missing").isEqualTo(v.isNull());
      if (col instanceof ColumnData.Strings s) {
        assertThat(dtype).as(what).isIn("str", "object");
        assertThat(s.values()[i]).as(at).isEqualTo(v.isNull() ? null : v.asText());
      } else if (col instanceof ColumnData.Integers n) {
        assertThat(n.type().numpyName()).as(what).isEqualTo(dtype);
        if (!v.isNull()) {
          assertThat(n.values()[i]).as(at).isEqualTo(v.asLong());
        }
      } else if (col instanceof ColumnData.Floats f) {
        assertThat(f.type().numpyName()).as(what).isEqualTo(dtype);
        if (!v.isNull()) {
          assertThat(f.values()[i]).as(at).isEqualTo(v.asDouble());
        }
      } else if (col instanceof ColumnData.Booleans b) {
        assertThat(dtype).as(what).isEqualTo("bool");
        if (!v.isNull()) {
          assertThat(b.values()[i]).as(at).isEqualTo(v.asBoolean());
        }
      } else {
        throw new AssertionError(what + " is a nested categorical");
      }
    }
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
