package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.arrow.BatchStream;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.ArrowValues;
import io.annflight.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with MappedCollection: every case in engine-cases/ (expected values computed in Python
 * from anndata and pandas by tools/fixtures/expected_engine.py) is planned and streamed by the
 * engine, as a range in small batches and as a shuffled index list with duplicates.
 */
class EngineCaseTest {
  /** Where the cases' store paths resolve: the fixtures directory, or a bucket holding them. */
  static Path storeRoot = Fixtures.dir();
  /** Whether every case is checked by the uncached engine too (reads the same bytes again). */
  static boolean alsoUncached = true;
  private static StoreCatalog catalog;
  private static CollectionEngine cached;
  /** Projects every sparse read anew: the reads a cached projection skips, checked too. */
  private static CollectionEngine uncached;

  @BeforeAll
  static void open() {
    catalog = new StoreCatalog(AnnDataStores::open);
    cached = new CollectionEngine(catalog);
    uncached = new CollectionEngine(catalog, 0, io.annflight.store.ParallelTasks.SERIAL);
  }

  @AfterAll
  static void close() {
    catalog.close();
  }

  static Stream<Path> cases() throws IOException {
    try (Stream<Path> files = Files.list(Fixtures.engineCases())) {
      List<Path> list = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
      assertThat(list).isNotEmpty();
      return list.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReference(Path caseFile) throws IOException {
    check(caseFile, cached);
    if (alsoUncached) {
      check(caseFile, uncached);
    }
  }

  private void check(Path caseFile, CollectionEngine engine) throws IOException {
    JsonNode c = RequestJson.MAPPER.readTree(caseFile.toFile());
    if (c.has("error")) {
      assertThatThrownBy(() -> {
        CollectionRequest r = parse(c.get("request"));
        engine.plan(r, paths(r));
      }).isInstanceOfAny(RequestException.class)
          .hasMessageContaining(c.get("error").asText());
      return;
    }
    CollectionRequest request = parse(c.get("request"));
    CollectionPlan plan = engine.plan(request, paths(request));
    JsonNode exp = c.get("expected");
    CollectionQueries q = plan.queries();
    assertThat(plan.nObs()).isEqualTo(exp.get("n_obs").asLong());
    assertThat(q.shape()).containsExactly(exp.get("shape").get(0).asLong(),
        exp.get("shape").get(1).asLong());
    List<long[]> shapes = q.originalShapes();
    assertThat(shapes).hasSize(exp.get("original_shapes").size());
    for (int s = 0; s < shapes.size(); s++) {
      assertThat(shapes.get(s)).containsExactly(
          exp.get("original_shapes").get(s).get(0).asLong(),
          exp.get("original_shapes").get(s).get(1).asLong());
    }
    if (exp.has("var_joint")) {
      assertThat(q.varJoint()).isEqualTo(exp.get("var_joint").isNull() ? null
          : strings(exp.get("var_joint")));
    }
    if (exp.has("check_vars_sorted_ascending")) {
      assertThat(q.checkVarsSorted(true))
          .isEqualTo(exp.get("check_vars_sorted_ascending").asBoolean());
      assertThat(q.checkVarsSorted(false))
          .isEqualTo(exp.get("check_vars_sorted_descending").asBoolean());
    }
    if (exp.has("check_vars_non_aligned")) {
      JsonNode n = exp.get("check_vars_non_aligned");
      List<Integer> want = new ArrayList<>();
      n.get("result").forEach(x -> want.add(x.asInt()));
      assertThat(q.checkVarsNonAligned(strings(n.get("vars")))).isEqualTo(want);
    }
    if (exp.has("var_names_unmatched")) {
      assertThat(plan.unmatchedVarNames()).isEqualTo(strings(exp.get("var_names_unmatched")));
    }
    if (exp.has("merged_categories")) {
      exp.get("merged_categories").fields().forEachRemaining(e ->
          assertThat(q.getMergedCategories(e.getKey())).as("merged categories of %s",
              e.getKey()).isEqualTo(values(e.getValue())));
    }
    if (exp.has("merged_labels")) {
      exp.get("merged_labels").fields().forEachRemaining(e ->
          assertThat(q.getMergedLabels(e.getKey()).values()).as("merged labels of %s",
              e.getKey()).isEqualTo(values(e.getValue())));
    }
    if (exp.has("label_weights")) {
      checkWeights(q, exp.get("label_weights"));
    }

    int n = Math.toIntExact(plan.nObs());
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(i);
    }
    checkStream(plan, new RowSelection.Range(0, n), all, exp.get("columns"), 7);
    List<Integer> shuffled = new ArrayList<>(all);
    if (n > 0) {
      shuffled.add(n - 1);
      shuffled.add(0);
    }
    Collections.shuffle(shuffled, new Random(42));
    checkStream(plan, new RowSelection.Indices(
        shuffled.stream().mapToLong(Integer::longValue).toArray()), shuffled,
        exp.get("columns"), 5);

    // The same rows with matrix_format csr: every matrix column, densified, equals the dense.
    com.fasterxml.jackson.databind.node.ObjectNode csrRequest =
        ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("request")).deepCopy();
    csrRequest.put("matrix_format", "csr");
    CollectionRequest sparse = parse(csrRequest);
    CollectionPlan csr = engine.plan(sparse, paths(sparse));
    assertThat(csr.layers()).allSatisfy(m -> assertThat(m.column().sparse()).isTrue());
    checkStream(csr, new RowSelection.Range(0, n), all, exp.get("columns"), 7);
    checkStream(csr, new RowSelection.Indices(
        shuffled.stream().mapToLong(Integer::longValue).toArray()), shuffled,
        exp.get("columns"), 5);
  }

  private void checkWeights(CollectionQueries q, JsonNode w) {
    List<String> keys = strings(w.get("keys"));
    Double scaler = w.get("scaler").isNull() ? null : w.get("scaler").asDouble();
    double[] got = q.getLabelWeights(keys, scaler);
    JsonNode want = w.get("weights");
    assertThat(got).hasSize(want.size());
    for (int i = 0; i < got.length; i++) {
      assertThat(got[i]).as("weight %d", i).isCloseTo(want.get(i).asDouble(),
          org.assertj.core.data.Offset.offset(1e-12));
    }
    Map<String, Double> cats = q.getLabelWeightCategories(keys, scaler);
    assertThat(cats.keySet()).containsExactlyInAnyOrderElementsOf(
        () -> w.get("categories").fieldNames());
    w.get("categories").fields().forEachRemaining(e ->
        assertThat(cats.get(e.getKey())).isCloseTo(e.getValue().asDouble(),
            org.assertj.core.data.Offset.offset(1e-12)));
  }

  private void checkStream(CollectionPlan plan, RowSelection rows, List<Integer> order,
      JsonNode columns, int batch) {
    try (RootAllocator allocator = new RootAllocator();
        BatchStream stream = BatchStream.open(plan, rows, allocator, batch)) {
      VectorSchemaRoot root = stream.root();
      Map<String, List<Object>> got = new java.util.LinkedHashMap<>();
      while (stream.next()) {
        for (FieldVector v : root.getFieldVectors()) {
          List<Object> col = got.computeIfAbsent(v.getName(), k -> new ArrayList<>());
          col.addAll(read(v, stream));
        }
      }
      assertThat(stream.rowsSent()).isEqualTo(order.size());
      List<String> names = root.getSchema().getFields().stream().map(Field::getName).toList();
      assertThat(names).containsExactlyElementsOf(() -> columns.fieldNames());
      columns.fields().forEachRemaining(e -> checkColumn(e.getKey(), e.getValue(),
          root.getSchema().findField(e.getKey()), got.getOrDefault(e.getKey(), List.of()),
          order, stream));
      stream.close();
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  private static List<Object> read(FieldVector v, BatchStream stream) {
    List<Object> out = new ArrayList<>();
    DictionaryEncoding enc = v.getField().getDictionary();
    if (ArrowValues.isSparse(v)) {
      out.addAll(ArrowValues.sparseRows(v));
    } else if (v.getField().getType() instanceof org.apache.arrow.vector.types.pojo.ArrowType.FixedSizeList
        || v.getField().getType() instanceof org.apache.arrow.vector.types.pojo.ArrowType.List) {
      out.addAll(ArrowValues.rows(v));
    } else if (enc != null) {
      for (int i = 0; i < v.getValueCount(); i++) {
        out.add(v.isNull(i) ? null : (long) ((org.apache.arrow.vector.IntVector) v).get(i));
      }
    } else {
      for (int i = 0; i < v.getValueCount(); i++) {
        out.add(ArrowValues.scalar(v, i));
      }
    }
    return out;
  }

  private void checkColumn(String name, JsonNode want, Field field, List<Object> got,
      List<Integer> order, BatchStream stream) {
    if (name.equals("_store_idx")) {
      for (int i = 0; i < order.size(); i++) {
        assertThat(got.get(i)).as("_store_idx row %d", order.get(i))
            .isEqualTo((long) want.get(order.get(i)).asInt());
      }
      return;
    }
    if (want.has("rows")) {
      Object width = want.get("width").isNull() ? null : want.get("width").asInt();
      boolean sparse = field.getChildren().get(0).getType()
          instanceof org.apache.arrow.vector.types.pojo.ArrowType.Struct;
      if (sparse) {
        assertThat(field.getType()).isInstanceOf(
            org.apache.arrow.vector.types.pojo.ArrowType.List.class);
        assertThat(field.getChildren().get(0).getChildren().get(1).getType())
            .as("%s value type", name).isEqualTo(io.annflight.schema.ArrowTypes.of(
                io.annflight.schema.ElementType.parseDtype(want.get("type").asText())));
      } else if (width == null) {
        assertThat(field.getType()).isInstanceOf(
            org.apache.arrow.vector.types.pojo.ArrowType.List.class);
      } else {
        assertThat(field.getType()).isEqualTo(
            new org.apache.arrow.vector.types.pojo.ArrowType.FixedSizeList((Integer) width));
      }
      if (!sparse) {
        assertThat(field.getChildren().get(0).getType()).as("%s item type", name).isEqualTo(
            io.annflight.schema.ArrowTypes.of(
                io.annflight.schema.ElementType.parseDtype(want.get("type").asText())));
      }
      boolean f32 = want.get("type").asText().equals("float32");
      for (int i = 0; i < order.size(); i++) {
        JsonNode wr = want.get("rows").get(order.get(i));
        double[] gr = got.get(i) instanceof ArrowValues.SparseRow sr ? sr.dense(wr.size())
            : (double[]) got.get(i);
        if (wr.isNull()) {
          assertThat(gr).as("%s row %d", name, order.get(i)).isNull();
          continue;
        }
        assertThat(gr).as("%s row %d", name, order.get(i)).isNotNull().hasSize(wr.size());
        for (int j = 0; j < gr.length; j++) {
          double w = wr.get(j).isNull() ? Double.NaN : wr.get(j).asDouble();
          double expect = f32 ? (float) w : w;
          assertThat(gr[j]).as("%s row %d col %d", name, order.get(i), j).isEqualTo(expect);
        }
      }
      return;
    }
    boolean encoded = want.get("encoded").asBoolean();
    assertThat(field.getDictionary() != null).as("%s encoded", name).isEqualTo(encoded);
    if (encoded) {
      ValueVector dict = stream.dictionaries().lookup(field.getDictionary().getId()).getVector();
      List<Object> dictValues = new ArrayList<>();
      for (int i = 0; i < dict.getValueCount(); i++) {
        dictValues.add(ArrowValues.scalar(dict, i));
      }
      assertThat(dictValues).as("%s dictionary", name).isEqualTo(values(want.get("dictionary")));
      List<Object> codes = values(want.get("codes"));
      for (int i = 0; i < order.size(); i++) {
        assertThat(got.get(i)).as("%s code of row %d", name, order.get(i))
            .isEqualTo(codes.get(order.get(i)));
      }
    } else {
      List<Object> vals = values(want.get("values"));
      for (int i = 0; i < order.size(); i++) {
        assertThat(got.get(i)).as("%s value of row %d", name, order.get(i))
            .isEqualTo(vals.get(order.get(i)));
      }
    }
  }

  private static CollectionRequest parse(JsonNode request) {
    return RequestJson.parse(request, name -> {
      throw new RequestException("no collections in tests: " + name);
    }, Set.of());
  }

  private static List<Path> paths(CollectionRequest r) {
    return r.paths().stream().map(p -> storeRoot.resolve(p)).toList();
  }

  private static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }

  /** JSON scalars as the engine's label values: String, Long, Double, Boolean or null. */
  private static List<Object> values(JsonNode n) {
    List<Object> out = new ArrayList<>();
    for (JsonNode x : n) {
      if (x.isNull()) {
        out.add(null);
      } else if (x.isTextual()) {
        out.add(x.asText());
      } else if (x.isBoolean()) {
        out.add(x.asBoolean());
      } else if (x.isIntegralNumber()) {
        out.add(x.asLong());
      } else {
        out.add(x.asDouble());
      }
    }
    return out;
  }
}
