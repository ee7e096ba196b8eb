package io.annflight.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.AnnDataStore;
import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Assertions of a store against its expected JSON (the fixtures' contract). */
public final class StoreAssertions {
  private StoreAssertions() {}

  /** Shape, element lists, frames and every matrix of the store equal the expected JSON. */
  public static void assertStoreMatches(AnnDataStore store, JsonNode exp, String name) {
    assertThat(store.nObs()).as(name).isEqualTo(exp.get("n_obs").asLong());
    assertThat(store.var().length()).as(name).isEqualTo(exp.get("n_vars").asLong());
    assertThat(store.layerNames()).as(name).containsExactlyInAnyOrderElementsOf(texts(exp.get("layers")));
    assertThat(store.obsmNames()).as(name).containsExactlyInAnyOrderElementsOf(texts(exp.get("obsm")));
    assertThat(store.hasRaw()).as(name).isEqualTo(exp.get("has_raw").asBoolean());
    if (exp.has("has_x")) {
      assertThat(store.hasX()).as(name).isEqualTo(exp.get("has_x").asBoolean());
    }
    if (exp.has("modalities")) {
      assertThat(store.modalities()).as(name).containsExactlyElementsOf(texts(exp.get("modalities")));
    }
    assertFrame(store.obs(), exp.get("obs"));
    assertFrame(store.var(), exp.get("var"));
    if (!exp.get("raw_var").isNull()) {
      assertFrame(store.rawVar().orElseThrow(), exp.get("raw_var"));
    }
    Iterator<Map.Entry<String, JsonNode>> it = exp.get("matrices").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode m = e.getValue();
      Optional<MatrixReader> reader = store.matrix(e.getKey());
      assertThat(reader).as(name + " " + e.getKey()).isPresent();
      MatrixReader r = reader.get();
      if (!m.get("layout").asText().equals("dense") || r.layout() != MatrixLayout.DENSE) {
        assertThat(r.layout()).as(e.getKey()).isEqualTo(MatrixLayout.valueOf(m.get("layout").asText().toUpperCase()));
      }
      assertThat(r.elementType().numpyName()).as(name + " " + e.getKey()).isEqualTo(m.get("dtype").asText());
      assertThat(new long[] {r.nRows(), r.nCols()})
          .containsExactly(m.get("shape").get(0).asLong(), m.get("shape").get(1).asLong());
      double[][] want = Fixtures.expectedDense(m);
      Fixtures.assertRows(Fixtures.toDense(r.readRows(0, r.nRows())), want, name + " " + e.getKey());
      long[] picked = {0, r.nRows() / 2, r.nRows() / 2, r.nRows() - 1};
      double[][] got = Fixtures.toDense(r.readRows(picked));
      double[][] wantPicked = new double[picked.length][];
      for (int i = 0; i < picked.length; i++) {
        wantPicked[i] = want[(int) picked[i]];
      }
      Fixtures.assertRows(got, wantPicked, name + " " + e.getKey() + " rows " + java.util.Arrays.toString(picked));
    }
  }

  public static void assertFrame(DataFrameReader frame, JsonNode exp) {
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

  public static void assertColumn(String at, ColumnData col, JsonNode exp) {
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
  public static void assertValues(String at, ColumnData col, JsonNode values, String dtype) {
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

  public static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
