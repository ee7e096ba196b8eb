package io.annflight.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.flight.AnnflightServer;
import io.annflight.flight.CollectionRegistry;
import io.annflight.flight.DataRoot;
import io.annflight.flight.RequestResolver;
import io.annflight.store.AnnDataStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FloatingPointVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java Flight client against an in-process server whose data root is the project's fixture
 * directory: every engine case (tools/fixtures/expected_engine.py: requests and the values
 * anndata + pandas compute for them) is asked for as a command descriptor, read through every
 * endpoint (several per store), and once more through a hand-built ticket of reversed row
 * indices; bad requests must fail with the case's message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JavaFlightClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RESOURCES = Path.of(System.getProperty("annflight.testResources",
      "../flight-server/src/test/resources"));
  /** Small endpoints, so that every store is read over several streams. */
  private static final int ROWS_PER_ENDPOINT = 7;

  private BufferAllocator allocator;
  private AnnflightServer server;
  private FlightClient client;

  @BeforeAll
  void start() throws IOException {
    RequestResolver resolver = new RequestResolver(new CollectionRegistry(List.of()),
        DataRoot.of(RESOURCES.resolve("fixtures")));
    allocator = new RootAllocator();
    server = AnnflightServer.start(resolver, AnnDataStores::open,
        new AnnflightServer.Options("127.0.0.1", 0, null, 100_000), allocator);
    client = FlightClient.builder(allocator, server.location()).build();
  }

  @AfterAll
  void stop() throws Exception {
    client.close();
    server.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  @TestFactory
  Stream<DynamicTest> everyEngineCaseThroughTheFlightClient() throws IOException {
    List<Path> cases;
    try (Stream<Path> files = Files.list(RESOURCES.resolve("engine-cases"))) {
      cases = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(cases).hasSizeGreaterThan(40);
    return cases.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(),
        () -> check(JSON.readTree(p.toFile()))));
  }

  private void check(JsonNode testCase) throws Exception {
    ObjectNode request = (ObjectNode) testCase.get("request").deepCopy();
    request.put("rows_per_endpoint", ROWS_PER_ENDPOINT);
    FlightDescriptor descriptor = FlightDescriptor.command(
        JSON.writeValueAsBytes(request));
    if (testCase.has("error")) {
      assertThatThrownBy(() -> client.getInfo(descriptor))
          .isInstanceOf(FlightRuntimeException.class)
          .hasMessageContaining(testCase.get("error").asText());
      return;
    }
    JsonNode expected = testCase.get("expected");
    FlightInfo info = client.getInfo(descriptor);
    long nObs = expected.get("n_obs").asLong();
    assertThat(info.getRecords()).isEqualTo(nObs);
    assertThat(info.getEndpoints()).allSatisfy(e -> assertThat(e.getLocations())
        .containsExactly(server.location()));

    List<String> names = new ArrayList<>();
    expected.get("columns").fieldNames().forEachRemaining(names::add);
    assertThat(info.getSchema().getFields()).extracting(Field::getName)
        .containsExactlyElementsOf(names);
    for (String name : names) {
      checkType(info.getSchema().findField(name), expected.get("columns").get(name));
    }

    Map<String, List<Object>> read = new LinkedHashMap<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      readInto(endpoint.getTicket(), read);
    }
    for (String name : names) {
      assertColumn(name, read.getOrDefault(name, List.of()), expected.get("columns").get(name),
          IntStream.range(0, (int) nObs).boxed().toList());
    }

    if (nObs > 0) {  // the same rows, reversed, through a ticket built by hand
      List<Integer> reversed = new ArrayList<>(IntStream.range(0, (int) nObs).boxed().toList());
      Collections.reverse(reversed);
      ObjectNode ticket = JSON.createObjectNode();
      ticket.set("request", testCase.get("request"));
      reversed.forEach(ticket.putArray("indices")::add);
      Map<String, List<Object>> byIndex = new LinkedHashMap<>();
      readInto(new Ticket(JSON.writeValueAsBytes(ticket)), byIndex);
      for (String name : names) {
        assertColumn(name, byIndex.get(name), expected.get("columns").get(name), reversed);
      }
    }
  }

  /** Reads one ticket's stream, appending each column's decoded row values to {@code into}. */
  private void readInto(Ticket ticket, Map<String, List<Object>> into) throws Exception {
    try (FlightStream stream = client.getStream(ticket)) {
      VectorSchemaRoot root = stream.getRoot();
      while (stream.next()) {
        for (FieldVector vector : root.getFieldVectors()) {
          Field field = vector.getField();
          List<Object> values = into.computeIfAbsent(field.getName(), k -> new ArrayList<>());
          for (int i = 0; i < root.getRowCount(); i++) {
            if (field.getDictionary() != null) {
              values.add(vector.isNull(i) ? null : ((BaseIntVector) vector).getValueAsLong(i));
            } else {
              values.add(value(vector, i));
            }
          }
          if (field.getDictionary() != null) {
            Dictionary dictionary =
                stream.getDictionaryProvider().lookup(field.getDictionary().getId());
            ValueVector dv = dictionary.getVector();
            List<Object> dictValues = new ArrayList<>();
            for (int i = 0; i < dv.getValueCount(); i++) {
              dictValues.add(value(dv, i));
            }
            into.put(field.getName() + "#dictionary", dictValues);
          }
        }
      }
    }
  }

  /** A cell as String, Long, Double, Boolean, a List of those, or null. */
  private static Object value(ValueVector vector, int i) {
    if (vector.isNull(i)) {
      return null;
    }
    if (vector instanceof FixedSizeListVector list) {
      int width = list.getListSize();
      List<Object> row = new ArrayList<>(width);
      for (int j = 0; j < width; j++) {
        row.add(value(list.getDataVector(), i * width + j));
      }
      return row;
    }
    if (vector instanceof ListVector list) {
      List<Object> row = new ArrayList<>();
      for (int j = list.getElementStartIndex(i); j < list.getElementEndIndex(i); j++) {
        row.add(value(list.getDataVector(), j));
      }
      return row;
    }
    if (vector instanceof FloatingPointVector f) {
      return f.getValueAsDouble(i);
    }
    if (vector instanceof BaseIntVector n) {
      return n.getValueAsLong(i);
    }
    if (vector instanceof BitVector b) {
      return b.get(i) == 1;
    }
    if (vector instanceof VarCharVector s) {
      return new String(s.get(i), StandardCharsets.UTF_8);
    }
    throw new AssertionError("unexpected vector " + vector.getField());
  }

  private static void checkType(Field field, JsonNode column) {
    if (!column.isObject()) {  // _store_idx
      assertThat(field.getType()).isEqualTo(new ArrowType.Int(32, true));
      assertThat(field.isNullable()).isFalse();
      return;
    }
    if (column.has("encoded")) {
      ArrowType valueType = switch (column.get("value_type").asText()) {
        case "utf8" -> ArrowType.Utf8.INSTANCE;
        case "int64" -> new ArrowType.Int(64, true);
        case "float64" -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
        case "bool" -> ArrowType.Bool.INSTANCE;
        default -> throw new AssertionError(column);
      };
      assertThat(field.getType()).as(field.getName()).isEqualTo(valueType);
      assertThat(field.getDictionary() != null).as(field.getName())
          .isEqualTo(column.get("encoded").asBoolean());
      return;
    }
    if (!column.get("width").isNull()) {
      assertThat(field.getType()).as(field.getName())
          .isEqualTo(new ArrowType.FixedSizeList(column.get("width").asInt()));
    }
    String numpy = column.get("type").asText();
    ArrowType element = field.getChildren().get(0).getType();
    ArrowType want = numpy.startsWith("float")
        ? new ArrowType.FloatingPoint(numpy.equals("float32")
            ? FloatingPointPrecision.SINGLE : FloatingPointPrecision.DOUBLE)
        : new ArrowType.Int(Integer.parseInt(numpy.replaceAll("\\D", "")),
            !numpy.startsWith("u"));
    assertThat(element).as(field.getName()).isEqualTo(want);
  }

  /** Column {@code name} equals the expected rows at {@code rows}, in that order. */
  private static void assertColumn(String name, List<Object> actual, JsonNode column,
      List<Integer> rows) {
    assertThat(actual).as(name).hasSize(rows.size());
    for (int k = 0; k < rows.size(); k++) {
      int row = rows.get(k);
      String where = name + " row " + row;
      Object got = actual.get(k);
      if (!column.isObject()) {
        assertEqual(where, got, column.get(row));
      } else if (column.has("encoded") && column.get("encoded").asBoolean()) {
        assertEqual(where, got, column.get("codes").get(row));
      } else if (column.has("encoded")) {
        assertEqual(where, got, column.get("values").get(row));
      } else {
        assertEqual(where, got, column.get("rows").get(row));
      }
    }
  }

  private static void assertEqual(String where, Object got, JsonNode want) {
    if (want.isNull()) {
      boolean nan = got instanceof Double d && d.isNaN();
      assertThat(got == null || nan).as(where + ": expected null/NaN, got " + got).isTrue();
    } else if (want.isArray()) {
      assertThat(got).as(where).isInstanceOf(List.class);
      List<?> list = (List<?>) got;
      assertThat(list).as(where).hasSize(want.size());
      for (int j = 0; j < want.size(); j++) {
        assertEqual(where + "[" + j + "]", list.get(j), want.get(j));
      }
    } else if (got instanceof Double d) {
      assertThat(d).as(where).isEqualTo(want.asDouble());
    } else if (got instanceof Long n) {
      // uint64 values above Long.MAX_VALUE come back as their two's-complement bits.
      assertThat(n).as(where).isEqualTo(want.bigIntegerValue().longValue());
    } else if (got instanceof Boolean b) {
      assertThat(b).as(where).isEqualTo(want.asBoolean());
    } else {
      assertThat(got).as(where).isEqualTo(want.asText());
    }
  }
}
