package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.annflight.arrow.compression.BatchCodecs;
import io.grpc.Context;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flatbuf.CompressionType;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;
import io.annflight.arrow.BatchStream;
import io.annflight.cli.ServerConfig;
import io.annflight.collection.CollectionPlan;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RequestLimits;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import io.annflight.testing.LocalFlight;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightGrpcUtils;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Flight service end to end, in process: a server over copies of two fixtures (dense.h5ad,
 * 60 rows; f_same_var.zarr, 25 rows; same 24 genes) configured as collection "test", and the
 * Java Flight client. Streamed data is compared with the engine's own batches for the same
 * request, and a few values with what anndata wrote in the fixtures' expected JSON.
 */
class FlightServiceTest {
  private static final long N_OBS = 85;

  @TempDir Path tmp;
  Path fixtures;
  Path root;
  LocalFlight local;
  BufferAllocator allocator;
  AnnflightServer server;
  FlightClient client;
  ConfiguredCollection test;

  @BeforeEach
  void start() throws IOException, URISyntaxException {
    fixtures = Fixtures.dir();
    root = Files.createDirectories(tmp.resolve("root"));
    Fixtures.copyTree(fixtures.resolve("dense.h5ad"), root.resolve("dense.h5ad"));
    Fixtures.copyTree(fixtures.resolve("f_same_var.zarr"), root.resolve("f_same_var.zarr"));
    // A link leading out of the data root, and a store in a layout annflight does not read.
    Files.createSymbolicLink(root.resolve("escape.h5ad"), fixtures.resolve("csc.h5ad"));
    Files.createDirectories(root.resolve("v3.zarr"));
    Files.writeString(root.resolve("v3.zarr/.zgroup"), "{\"zarr_format\": 3}");

    ObjectNode options = RequestJson.MAPPER.createObjectNode();
    options.putArray("paths").add("dense.h5ad").add("f_same_var.zarr");
    options.putArray("obs_keys").add("cell_type").add("tissue");
    options.putArray("obsm_keys").add("X_pca");
    test = ServerConfig.collection(Path.of("test"), "test", options, root);
    RequestResolver resolver =
        new RequestResolver(new CollectionRegistry(List.of(test)), DataRoot.of(root));
    local = LocalFlight.start(resolver, 50);
    allocator = local.allocator();
    server = local.server();
    client = local.client();
  }

  @AfterEach
  void stop() throws Exception {
    local.close();
  }

  // ---------------------------------------------------------------- discovery

  @Test
  void listFlightsOffersEachConfiguredCollection() {
    List<FlightInfo> infos = new ArrayList<>();
    client.listFlights(Criteria.ALL).forEach(infos::add);
    assertThat(infos).hasSize(1);
    assertThat(infos.get(0).getDescriptor().getPath()).containsExactly("test");
    assertThat(infos.get(0).getRecords()).isEqualTo(N_OBS);
  }

  @Test
  void pathDescriptorGivesEndpointsCoveringTheIndexSpaceInOrder() {
    FlightInfo info = client.getInfo(FlightDescriptor.path("test"));
    assertThat(info.getRecords()).isEqualTo(N_OBS);
    // Cap 50 rows per endpoint: the 60-row store splits in two, the 25-row one stays whole.
    assertThat(ranges(info)).containsExactly(
        new RowSelection.Range(0, 30), new RowSelection.Range(30, 60),
        new RowSelection.Range(60, 85));
    for (FlightEndpoint e : info.getEndpoints()) {
      assertThat(e.getLocations()).containsExactly(server.location());
    }
  }

  @Test
  void schemaShowsDictionaryColumnsWithTheirValueType() {
    Schema schema = client.getInfo(FlightDescriptor.path("test")).getSchema();
    assertThat(schema.getFields()).extracting(Field::getName)
        .containsExactly("_store_idx", "X", "cell_type", "tissue", "obsm_X_pca");
    Field cellType = schema.findField("cell_type");
    assertThat(cellType.getDictionary()).isNotNull();
    assertThat(cellType.getDictionary().getIndexType()).isEqualTo(new ArrowType.Int(32, true));
    assertThat(cellType.getType()).isEqualTo(ArrowType.Utf8.INSTANCE);
    assertThat(schema.findField("X").getType()).isEqualTo(new ArrowType.FixedSizeList(24));
    assertThat(client.getSchema(FlightDescriptor.path("test")).getSchema()).isEqualTo(schema);
  }

  @Test
  void commandDescriptorTakesRequestKeysAndRowsPerEndpoint() {
    FlightInfo info = client.getInfo(command(
        "{\"paths\": [\"f_same_var.zarr\", \"dense.h5ad\"], \"obs_keys\": \"tissue\","
            + " \"rows_per_endpoint\": 40}"));
    assertThat(info.getRecords()).isEqualTo(N_OBS);
    assertThat(ranges(info)).containsExactly(new RowSelection.Range(0, 40),
        new RowSelection.Range(40, 80), new RowSelection.Range(80, 85));
    assertThat(info.getSchema().getFields()).extracting(Field::getName)
        .containsExactly("_store_idx", "X", "tissue");
    // A collection's options can be overridden.
    FlightInfo narrowed = client.getInfo(command(
        "{\"collection\": \"test\", \"obs_keys\": [], \"obsm_keys\": null, "
            + "\"obs_filter\": {\"tissue\": \"lung\"}}"));
    assertThat(narrowed.getSchema().getFields()).extracting(Field::getName)
        .containsExactly("_store_idx", "X");
    assertThat(narrowed.getRecords()).isLessThan(N_OBS).isPositive();
  }

  // ---------------------------------------------------------------- DoGet

  @Test
  void everyEndpointStreamsWhatTheEngineProducesForItsRange() throws Exception {
    FlightInfo info = client.getInfo(FlightDescriptor.path("test"));
    List<List<String>> all = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      List<List<String>> got = fetch(e.getTicket());
      RowSelection.Range r = range(e);
      assertThat(got).hasSize((int) r.count());
      assertThat(got).isEqualTo(engineRows(configured(), r, 7));
      all.addAll(got);
    }
    assertThat(all).hasSize((int) N_OBS);
  }

  @Test
  void streamedValuesMatchAnndata() throws Exception {
    JsonNode dense = expected("dense.h5ad");
    JsonNode same = expected("f_same_var.zarr");
    FlightInfo info = client.getInfo(FlightDescriptor.path("test"));
    try (FlightStream s = client.getStream(info.getEndpoints().get(2).getTicket())) {
      assertThat(s.next()).isTrue();
      VectorSchemaRoot r = s.getRoot();
      // Row 60 of the collection is row 0 of f_same_var.zarr.
      FixedSizeListVector x = (FixedSizeListVector) r.getVector("X");
      List<?> row = x.getObject(0);
      JsonNode want = same.at("/matrices/X/dense/0");
      for (int j = 0; j < 24; j++) {
        assertThat(((Number) row.get(j)).doubleValue()).isEqualTo(want.get(j).asDouble());
      }
      assertThat(decoded(r, s.getDictionaryProvider(), "cell_type", 0))
          .isEqualTo(same.at("/obs/columns/cell_type/values/0").asText());
      assertThat(r.getVector("_store_idx").getObject(0)).isEqualTo(1);
    }
    assertThat(dense.get("n_obs").asLong() + same.get("n_obs").asLong()).isEqualTo(N_OBS);
  }

  @Test
  void indexTicketsServeRowsInTicketOrderWithDuplicates() throws Exception {
    String json = "{\"request\": {\"collection\": \"test\", \"rows_per_batch\": 2}, "
        + "\"indices\": [84, 0, 0, 61, 5]}";
    List<List<String>> got = fetch(new Ticket(json.getBytes(StandardCharsets.UTF_8)));
    assertThat(got).isEqualTo(
        engineRows(configured(), new RowSelection.Indices(new long[] {84, 0, 0, 61, 5}), 3));
    assertThat(got).extracting(r -> r.get(0)).containsExactly("1", "0", "0", "1", "0");
    assertThat(got.get(1)).isEqualTo(got.get(2));
  }

  @Test
  void ticketsAreSelfContainedAndWorkOnAnotherServerOverTheSameFiles() throws Exception {
    FlightInfo info = client.getInfo(command("{\"paths\": [\"dense.h5ad\"], "
        + "\"obs_keys\": [\"tissue\"]}"));
    Ticket ticket = info.getEndpoints().get(0).getTicket();
    RequestResolver other = new RequestResolver(new CollectionRegistry(List.of()),
        DataRoot.of(root));
    try (AnnflightServer second = AnnflightServer.start(other, AnnDataStores::open,
            AnnflightServer.Options.local(0), allocator);
        FlightClient c2 = FlightClient.builder(allocator, second.location()).build()) {
      try (FlightStream a = client.getStream(ticket); FlightStream b = c2.getStream(ticket)) {
        assertThat(drain(b)).isEqualTo(drain(a)).hasSize(30);
      }
    }
  }

  // ---------------------------------------------------------------- actions

  @Test
  void listActionsDescribesEveryAction() {
    List<ActionType> types = new ArrayList<>();
    client.listActions().forEach(types::add);
    assertThat(types).extracting(ActionType::getType).containsExactly("shape",
        "original_shapes", "var_joint", "check_vars_sorted", "check_vars_non_aligned",
        "get_merged_categories", "get_merged_labels", "get_label_weights", "describe",
        "server_status");
    assertThat(types).filteredOn(t -> !t.getType().equals("server_status"))
        .allSatisfy(t -> assertThat(t.getDescription()).contains("args"));
  }

  @Test
  void smallActionResultsAreJson() throws Exception {
    JsonNode dense = expected("dense.h5ad");
    JsonNode same = expected("f_same_var.zarr");
    assertThat(actionJson("shape", "{\"collection\": \"test\"}").toString())
        .isEqualTo("[85,24]");
    assertThat(actionJson("original_shapes", "{\"paths\": [\"f_same_var.zarr\", "
        + "\"dense.h5ad\"]}").toString()).isEqualTo("[[25,24],[60,24]]");
    assertThat(actionJson("var_joint", "{\"collection\": \"test\"}"))
        .isEqualTo(dense.at("/var/index"));
    assertThat(actionJson("check_vars_sorted", "{\"collection\": \"test\"}").asBoolean())
        .isTrue();
    assertThat(actionJson("check_vars_sorted",
        "{\"collection\": \"test\", \"args\": {\"ascending\": false}}").asBoolean()).isFalse();
    assertThat(actionJson("check_vars_non_aligned", "{\"collection\": \"test\", "
        + "\"args\": {\"vars\": " + dense.at("/var/index") + "}}").toString()).isEqualTo("[]");
    assertThat(actionJson("check_vars_non_aligned", "{\"collection\": \"test\", "
        + "\"args\": {\"vars\": [\"G001\", \"G000\"]}}").toString()).isEqualTo("[0,1]");
    List<String> cats = new ArrayList<>();
    Stream.of(dense, same).forEach(d ->
        d.at("/obs/columns/cell_type/categories").forEach(c -> cats.add(c.asText())));
    List<String> merged = cats.stream().distinct().sorted().toList();
    assertThat(actionJson("get_merged_categories",
        "{\"collection\": \"test\", \"args\": {\"label_key\": \"cell_type\"}}"))
        .isEqualTo(RequestJson.MAPPER.valueToTree(merged));
  }

  @Test
  void describeSaysWhatAClientNeedsToPlan() throws Exception {
    JsonNode d = actionJson("describe", "{\"collection\": \"test\"}");
    assertThat(d.get("n_obs").asLong()).isEqualTo(N_OBS);
    assertThat(d.get("n_vars").asLong()).isEqualTo(24);
    assertThat(d.at("/request/collection").asText()).isEqualTo("test");
    assertThat(d.get("stores")).hasSize(2);
    JsonNode a = d.get("stores").get(0);
    assertThat(a.get("path").asText()).isEqualTo("dense.h5ad");
    assertThat(a.get("format").asText()).isEqualTo("h5ad");
    assertThat(a.get("n_obs").asLong()).isEqualTo(60);
    assertThat(a.get("offset").asLong()).isZero();
    assertThat(a.get("obsm").toString()).isEqualTo("[\"X_pca\",\"X_umap\"]");
    assertThat(a.get("layers").toString()).isEqualTo("[\"counts\"]");
    JsonNode b = d.get("stores").get(1);
    assertThat(b.get("path").asText()).isEqualTo("f_same_var.zarr");
    assertThat(b.get("format").asText()).isEqualTo("zarr");
    assertThat(b.get("offset").asLong()).isEqualTo(60);
    assertThat(d.get("columns").get(2).get("name").asText()).isEqualTo("cell_type");
    assertThat(d.get("columns").get(2).get("type").asText()).isEqualTo("Dictionary<int32, Utf8>");
    assertThat(d.get("columns").get(1).get("type").asText())
        .isEqualTo("FixedSizeList(24)<FloatingPoint(SINGLE)>");
    // Both fixtures store X as a dense array (encoding-type "array"); only dense.h5ad has the
    // counts layer.
    JsonNode layouts = actionJson("describe",
        "{\"collection\": \"test\", \"layers_keys\": [\"X\", \"counts\"]}").get("stores");
    assertThat(layouts.get(0).get("matrix_layouts").toString())
        .isEqualTo("{\"X\":\"dense\",\"counts\":\"dense\"}");
    assertThat(layouts.get(1).get("matrix_layouts").toString())
        .isEqualTo("{\"X\":\"dense\",\"counts\":null}");
  }

  @Test
  void perRowActionResultsAreOneArrowStreamWithOneColumn() throws Exception {
    JsonNode dense = expected("dense.h5ad");
    JsonNode same = expected("f_same_var.zarr");
    List<Object> labels = readColumn(action("get_merged_labels",
        "{\"collection\": \"test\", \"args\": {\"label_key\": \"cell_type\"}}"), "cell_type");
    List<Object> want = new ArrayList<>();
    Stream.of(dense, same).forEach(d -> d.at("/obs/columns/cell_type/values")
        .forEach(v -> want.add(v.isNull() ? null : v.asText())));
    assertThat(labels).isEqualTo(want);

    String body = "{\"collection\": \"test\", \"args\": {\"obs_keys\": [\"cell_type\", "
        + "\"tissue\"], \"scaler\": 2}}";
    List<Object> weights = readColumn(action("get_label_weights", body), "weight");
    CollectionPlan plan = server.producer().lease(configured()).plan();
    double[] engine = plan.queries().getLabelWeights(List.of("cell_type", "tissue"), 2.0);
    assertThat(weights).hasSize((int) N_OBS);
    for (int i = 0; i < engine.length; i++) {
      assertThat((Double) weights.get(i)).isEqualTo(engine[i]);
    }
    JsonNode byCategory = actionJson("get_label_weights", "{\"collection\": \"test\", "
        + "\"args\": {\"obs_keys\": \"tissue\", \"return_categories\": true}}");
    assertThat(RequestJson.MAPPER.convertValue(byCategory, Map.class)).isEqualTo(
        plan.queries().getLabelWeightCategories(List.of("tissue"), null));
  }

  // ---------------------------------------------------------------- errors

  @Test
  void badRequestsAreInvalidArgumentAndNameTheCulprit() {
    assertCode(() -> client.getInfo(command("{\"collection\": \"test\", \"obs_key\": [\"a\"]}")),
        FlightStatusCode.INVALID_ARGUMENT, "obs_key");
    assertCode(() -> client.getInfo(command("not json")),
        FlightStatusCode.INVALID_ARGUMENT, "not valid JSON");
    assertCode(() -> client.getInfo(command("{\"collection\": \"test\", \"obs_keys\": "
        + "[\"no_such_column\"]}")), FlightStatusCode.INVALID_ARGUMENT, "no_such_column");
    assertCode(() -> action("shape", "{\"collection\": \"test\", \"args\": {\"x\": 1}}"),
        FlightStatusCode.INVALID_ARGUMENT, "\"x\"");
    assertCode(() -> action("get_merged_categories", "{\"collection\": \"test\"}"),
        FlightStatusCode.INVALID_ARGUMENT, "label_key");
    assertCode(() -> action("frobnicate", "{\"collection\": \"test\"}"),
        FlightStatusCode.INVALID_ARGUMENT, "frobnicate");
  }

  @Test
  void badTicketsAreInvalidArgument() {
    assertCode(() -> fetch(new Ticket("{\"start\": 0}".getBytes(StandardCharsets.UTF_8))),
        FlightStatusCode.INVALID_ARGUMENT, "request");
    assertCode(() -> fetch(ticket("{\"request\": {\"collection\": \"test\"}, "
        + "\"indices\": [3, 85]}")), FlightStatusCode.INVALID_ARGUMENT, "85");
    assertCode(() -> fetch(ticket("{\"request\": {\"collection\": \"test\"}, "
        + "\"start\": 80, \"stop\": 90}")), FlightStatusCode.INVALID_ARGUMENT, "90");
    StringBuilder many = new StringBuilder("{\"request\": {\"collection\": \"test\"}, "
        + "\"indices\": [0");
    many.append(",0".repeat(RequestLimits.MAX_INDICES));
    many.append("]}");
    assertCode(() -> fetch(ticket(many.toString())), FlightStatusCode.INVALID_ARGUMENT,
        "at most " + RequestLimits.MAX_INDICES);
  }

  @Test
  void unknownCollectionsAndMissingFilesAreNotFound() {
    assertCode(() -> client.getInfo(FlightDescriptor.path("nope")),
        FlightStatusCode.NOT_FOUND, "nope");
    assertCode(() -> client.getInfo(command("{\"collection\": \"nope\"}")),
        FlightStatusCode.NOT_FOUND, "nope");
    assertCode(() -> client.getInfo(command("{\"paths\": [\"missing.h5ad\"]}")),
        FlightStatusCode.NOT_FOUND, "missing.h5ad");
    assertCode(() -> action("shape", "{\"paths\": [\"dense.h5ad\", \"gone.zarr\"]}"),
        FlightStatusCode.NOT_FOUND, "gone.zarr");
  }

  @Test
  void unsupportedLayoutsAreUnimplemented() {
    assertCode(() -> client.getInfo(command("{\"paths\": [\"v3.zarr\"]}")),
        FlightStatusCode.UNIMPLEMENTED, "zarr_format");
  }

  @Test
  void pathsMustStayInsideTheDataRoot() {
    String outside = fixtures.resolve("csc.h5ad").toString();
    assertCode(() -> client.getInfo(command("{\"paths\": [\"" + outside + "\"]}")),
        FlightStatusCode.INVALID_ARGUMENT, "absolute");
    assertCode(() -> client.getInfo(command("{\"paths\": [\"../root/dense.h5ad\"]}")),
        FlightStatusCode.INVALID_ARGUMENT, "..");
    assertCode(() -> client.getInfo(command("{\"paths\": [\"escape.h5ad\"]}")),
        FlightStatusCode.INVALID_ARGUMENT, "symbolic link");
    assertCode(() -> fetch(ticket("{\"request\": {\"paths\": [\"escape.h5ad\"]}, "
        + "\"start\": 0, \"stop\": 1}")), FlightStatusCode.INVALID_ARGUMENT, "symbolic link");
    assertCode(() -> action("shape", "{\"paths\": [\"../../etc/passwd\"]}"),
        FlightStatusCode.INVALID_ARGUMENT, "..");
  }

  @Test
  void theServerKeepsServingAfterErrors() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertCode(() -> fetch(ticket("{\"request\": {\"collection\": \"test\"}, "
          + "\"indices\": [999]}")), FlightStatusCode.INVALID_ARGUMENT, "999");
    }
    assertThat(fetch(ticket("{\"request\": {\"collection\": \"test\"}, \"start\": 0, "
        + "\"stop\": 3}"))).hasSize(3);
    awaitStreamsClosed();
  }

  // ---------------------------------------------------------------- cancellation

  @Test
  void cancellingMidStreamStopsTheWorkAndFreesItsMemory() throws Exception {
    FlightStream s = client.getStream(manySmallBatches());
    assertThat(s.next()).isTrue();
    assertThat(s.next()).isTrue();
    assertThat(allocator.getChildAllocators()).isNotEmpty();
    s.cancel("enough", null);
    try {
      s.close();
    } catch (Exception expected) {
      // Closing a cancelled stream reports the cancellation.
    }
    awaitStreamsClosed();
  }

  @Test
  void aClientThatDisconnectsMidStreamFreesTheServersMemory() throws Exception {
    // Own channel, so the test can drop the connection abruptly (FlightClient.close() is
    // graceful and would wait for the stream).
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    try (BufferAllocator clientAllocator = new RootAllocator()) {
      FlightClient other = FlightGrpcUtils.createFlightClient(clientAllocator, channel);
      FlightStream s = other.getStream(manySmallBatches());
      assertThat(s.next()).isTrue();
      channel.shutdownNow();
      awaitStreamsClosed();
      try {
        s.close();
        other.close();
      } catch (Exception expected) {
        // The channel is gone.
      }
    }
  }

  // ---------------------------------------------------------------- compression

  @Test
  void compressedStreamsCarryExactlyTheRowsOfThePlainStream() throws Exception {
    String rows = "\"rows_per_batch\": 30}, \"start\": 0, \"stop\": 85}";
    Ticket plainTicket = ticket("{\"request\": {\"collection\": \"test\", " + rows);
    List<List<String>> want = fetch(plainTicket);
    assertThat(want).hasSize((int) N_OBS)
        .isEqualTo(engineRows(configured(), new RowSelection.Range(0, 85), 30));
    List<Flight.FlightData> plain = rawDoGet(plainTicket);
    assertThat(readWire(plain)).isEqualTo(want);
    assertThat(batchHeaders(plain)).hasSize(3)
        .allSatisfy(b -> assertThat(b.compression()).isNull());
    for (String codec : List.of("lz4", "zstd")) {
      List<Flight.FlightData> packed = rawDoGet(ticket("{\"request\": {\"collection\": "
          + "\"test\", \"compression\": \"" + codec + "\", " + rows));
      byte expectedCodec = codec.equals("lz4") ? CompressionType.LZ4_FRAME : CompressionType.ZSTD;
      assertThat(batchHeaders(packed)).as(codec).hasSize(3).allSatisfy(b -> {
        assertThat(b.compression()).isNotNull();
        assertThat(b.compression().codec()).isEqualTo(expectedCodec);
      });
      assertThat(readWire(packed)).as(codec).isEqualTo(want);
      // The first batch (dense.h5ad rows 0..29) shrinks; so does the whole stream.
      assertThat(batchBodies(packed).get(0)).as(codec).isLessThan(batchBodies(plain).get(0));
      assertThat(batchBodies(packed).stream().mapToLong(Long::longValue).sum()).as(codec)
          .isLessThan(batchBodies(plain).stream().mapToLong(Long::longValue).sum());
    }
    awaitStreamsClosed();
  }

  @Test
  void javasFlightStreamCannotReadCompressedBatches() throws Exception {
    // Arrow Java's FlightStream loads batches with Arrow's NoCompressionCodec.Factory, so the
    // first compressed batch fails on the client with an IllegalArgumentException (not a Flight
    // error) asking for the arrow-compression module: the reason "compression" is opt-in.
    Ticket t = ticket("{\"request\": {\"collection\": \"test\", \"compression\": "
        + "\"lz4\"}, \"start\": 0, \"stop\": 10}");
    try (FlightStream s = client.getStream(t)) {
      assertThatThrownBy(s::next).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("arrow-compression");
    }
    awaitStreamsClosed();
  }

  @Test
  void eachGetFlightInfoTicketCarriesItsOwnCallsBatchSizeAndCompression() throws Exception {
    // The plan is cached per collection shape, ignoring batch size and compression; tickets
    // must still say what this call asked for, not what the call that built the plan did.
    FlightInfo first = client.getInfo(command("{\"collection\": \"test\", "
        + "\"rows_per_batch\": 7, \"compression\": \"lz4\"}"));
    FlightInfo second = client.getInfo(command("{\"collection\": \"test\", "
        + "\"rows_per_batch\": 13, \"compression\": \"zstd\"}"));
    FlightInfo third = client.getInfo(command("{\"collection\": \"test\"}"));
    assertThat(first.getEndpoints()).hasSize(3).allSatisfy(e -> {
      assertThat(ticketRequest(e).get("rows_per_batch").asInt()).isEqualTo(7);
      assertThat(ticketRequest(e).get("compression").asText()).isEqualTo("lz4");
    });
    assertThat(second.getEndpoints()).hasSize(3).allSatisfy(e -> {
      assertThat(ticketRequest(e).get("rows_per_batch").asInt()).isEqualTo(13);
      assertThat(ticketRequest(e).get("compression").asText()).isEqualTo("zstd");
    });
    assertThat(third.getEndpoints()).hasSize(3).allSatisfy(e -> {
      assertThat(ticketRequest(e).has("rows_per_batch")).isFalse();
      assertThat(ticketRequest(e).has("compression")).isFalse();
    });
    // And DoGet honours them: endpoint 0 (rows 0..29) in batches of 13, 13, 4, ZSTD-packed.
    List<Flight.FlightData> got = rawDoGet(second.getEndpoints().get(0).getTicket());
    assertThat(batchHeaders(got)).extracting(RecordBatch::length).containsExactly(13L, 13L, 4L);
    assertThat(batchHeaders(got)).allSatisfy(
        b -> assertThat(b.compression().codec()).isEqualTo(CompressionType.ZSTD));
    assertThat(readWire(got)).isEqualTo(engineRows(configured(), new RowSelection.Range(0, 30),
        13));
    // Endpoint 0 of the uncompressed call comes in one batch at the default size.
    assertThat(fetch(third.getEndpoints().get(0).getTicket())).hasSize(30);
    awaitStreamsClosed();
  }

  // ---------------------------------------------------------------- failures while streaming

  @Test
  void aBrokenChunkOnTheFillingThreadReachesTheClientAndFreesTheStream() throws Exception {
    // f_same_var.zarr holds rows 60..84; its only X chunk becomes garbage blosc can't read.
    Files.write(root.resolve("f_same_var.zarr/X/0.0"), "not a blosc chunk".repeat(20)
        .getBytes(StandardCharsets.UTF_8));
    Ticket t = ticket("{\"request\": {\"collection\": \"test\", \"rows_per_batch\": 10}, "
        + "\"start\": 0, \"stop\": 85}");
    List<List<String>> before = new ArrayList<>();
    try (FlightStream s = client.getStream(t)) {
      assertThatThrownBy(() -> {
        while (s.next()) {
          before.addAll(rowsOf(s.getRoot(), s.getDictionaryProvider()));
        }
      }).isInstanceOf(FlightRuntimeException.class)
          .hasMessageContaining("f_same_var.zarr at 'X'").hasMessageContaining("chunk 0.0")
          // Clients see the store as they named it, not the server's directories.
          .hasMessageNotContaining(root.toRealPath().toString())
          .hasMessageNotContaining(tmp.toString());
    } catch (FlightRuntimeException closing) {
      // Closing a failed stream may report the failure again.
    }
    // Every batch of dense.h5ad arrived, in order, before the failure.
    assertThat(before).isEqualTo(engineRows(configured(), new RowSelection.Range(0, 60), 10));
    awaitStreamsClosed();
  }

  @Test
  void cancellingACompressedStreamMidWayFreesItsMemory() throws Exception {
    // FlightStream cannot read a compressed batch, so this reads the raw gRPC stream and
    // cancels the call once compressed batches have arrived.
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    Context.CancellableContext call = Context.current().withCancellation();
    try {
      Iterator<Flight.FlightData> it = call.call(() -> FlightServiceGrpc.newBlockingStub(channel)
          .doGet(Flight.Ticket.newBuilder()
              .setTicket(ByteString.copyFrom(manySmallBatches("lz4").getBytes())).build()));
      List<Flight.FlightData> got = new ArrayList<>();
      while (batchHeaders(got).size() < 3) {
        got.add(it.next());
      }
      assertThat(batchHeaders(got)).allSatisfy(
          b -> assertThat(b.compression().codec()).isEqualTo(CompressionType.LZ4_FRAME));
      assertThat(readWire(got)).hasSize(3);
      assertThat(serverStreams()).isEqualTo(1);
      call.cancel(null);
      awaitStreamsClosed();
    } finally {
      call.cancel(null);
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void manyConcurrentStreamsOnASmallMemoryLimitSlowDownInsteadOfFailing() throws Exception {
    // 8 streams of 40 batches of ~75 KB each, read at once by clients that pause between
    // batches, on a server whose allocator may hold 2 MiB: streams wait for memory instead of
    // failing with RESOURCE_EXHAUSTED, and every row arrives.
    StringBuilder sb = new StringBuilder("{\"request\": {\"collection\": \"test\", "
        + "\"rows_per_batch\": 500}, \"indices\": [0");
    for (int i = 1; i < 20_000; i++) {
      sb.append(',').append(i % N_OBS);
    }
    Ticket ticket = ticket(sb.append("]}").toString());
    RequestResolver resolver = new RequestResolver(new CollectionRegistry(List.of(test)),
        DataRoot.of(root));
    try (BufferAllocator small = new RootAllocator(2 << 20);
        AnnflightServer tight = AnnflightServer.start(resolver, AnnDataStores::open,
            AnnflightServer.Options.local(0), small);
        BufferAllocator clients = new RootAllocator()) {
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(8);
      try {
        List<java.util.concurrent.Future<Long>> rows = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          rows.add(pool.submit(() -> {
            try (FlightClient c = FlightClient.builder(clients, tight.location()).build();
                FlightStream s = c.getStream(ticket)) {
              long n = 0;
              while (s.next()) {
                n += s.getRoot().getRowCount();
                Thread.sleep(2);
              }
              return n;
            }
          }));
        }
        for (java.util.concurrent.Future<Long> f : rows) {
          assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(20_000L);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A whole DoGet read off its own gRPC channel: the FlightData messages as sent. */
  private List<Flight.FlightData> rawDoGet(Ticket t) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    try {
      List<Flight.FlightData> out = new ArrayList<>();
      FlightServiceGrpc.newBlockingStub(channel).doGet(Flight.Ticket.newBuilder()
          .setTicket(ByteString.copyFrom(t.getBytes())).build()).forEachRemaining(out::add);
      return out;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The messages framed as an Arrow IPC stream, read with our codecs: rows as strings. */
  private List<List<String>> readWire(List<Flight.FlightData> messages) throws IOException {
    ByteArrayOutputStream ipc = new ByteArrayOutputStream();
    for (Flight.FlightData m : messages) {
      ByteString header = m.getDataHeader();
      if (header.isEmpty()) {
        continue;
      }
      int pad = (8 - header.size() % 8) % 8;
      ipc.write(le32(0xFFFFFFFF));
      ipc.write(le32(header.size() + pad));
      header.writeTo(ipc);
      ipc.write(new byte[pad]);
      m.getDataBody().writeTo(ipc);
      long bodyLength = message(m).bodyLength();
      ipc.write(new byte[Math.toIntExact(bodyLength - m.getDataBody().size())]);
    }
    ipc.write(le32(0xFFFFFFFF));
    ipc.write(le32(0));
    List<List<String>> rows = new ArrayList<>();
    try (BufferAllocator a = allocator.newChildAllocator("wire-reader", 0, Long.MAX_VALUE);
        ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(ipc.toByteArray()),
            a, BatchCodecs.INSTANCE)) {
      while (r.loadNextBatch()) {
        rows.addAll(rowsOf(r.getVectorSchemaRoot(), r));
      }
    }
    return rows;
  }

  private static byte[] le32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  private static Message message(Flight.FlightData m) {
    return Message.getRootAsMessage(m.getDataHeader().asReadOnlyByteBuffer());
  }

  /** The record batch headers (not schema or dictionary messages) in stream order. */
  private static List<RecordBatch> batchHeaders(List<Flight.FlightData> messages) {
    List<RecordBatch> out = new ArrayList<>();
    for (Flight.FlightData m : messages) {
      if (!m.getDataHeader().isEmpty()
          && message(m).headerType() == MessageHeader.RecordBatch) {
        out.add((RecordBatch) message(m).header(new RecordBatch()));
      }
    }
    return out;
  }

  /** The body size of each record batch as sent. */
  private static List<Long> batchBodies(List<Flight.FlightData> messages) {
    List<Long> out = new ArrayList<>();
    for (Flight.FlightData m : messages) {
      if (!m.getDataHeader().isEmpty()
          && message(m).headerType() == MessageHeader.RecordBatch) {
        out.add((long) m.getDataBody().size());
      }
    }
    return out;
  }

  private static JsonNode ticketRequest(FlightEndpoint e) {
    try {
      return RequestJson.MAPPER.readTree(e.getTicket().getBytes()).get("request");
    } catch (IOException ex) {
      throw new AssertionError(ex);
    }
  }


  private Ticket manySmallBatches() {
    return manySmallBatches("none");
  }

  private Ticket manySmallBatches(String compression) {
    StringBuilder sb = new StringBuilder("{\"request\": {\"collection\": \"test\", "
        + "\"rows_per_batch\": 1, \"compression\": \"" + compression + "\"}, "
        + "\"indices\": [0");
    for (int i = 1; i < 200_000; i++) {
      sb.append(',').append(i % N_OBS);
    }
    return ticket(sb.append("]}").toString());
  }

  /**
   * Waits until every stream's child allocator is closed, i.e. its task has ended. Bounded
   * generously (a minute): on a loaded machine a cancelled stream may take seconds to notice.
   */
  private void awaitStreamsClosed() throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    // The streams' allocators sit under the runtime's "streams" child of the server's.
    while (System.nanoTime() < deadline && serverStreams() > 0) {
      Thread.sleep(20);
    }
    assertThat(serverStreams()).isZero();
  }

  private long serverStreams() {
    return allocator.getChildAllocators().stream()
        .flatMap(a -> java.util.stream.Stream.concat(java.util.stream.Stream.of(a),
            a.getChildAllocators().stream()))
        .filter(a -> a.getName().startsWith("stream-")).count();
  }

  private CollectionRequest configured() {
    return test.request();
  }

  private List<List<String>> engineRows(CollectionRequest request, RowSelection rows,
      int rowsPerBatch) {
    CollectionPlan plan = server.producer().lease(request).plan();
    List<List<String>> out = new ArrayList<>();
    try (BufferAllocator a = allocator.newChildAllocator("engine", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, rows, a, rowsPerBatch)) {
      while (s.next()) {
        out.addAll(rowsOf(s.root(), s.dictionaries()));
      }
    }
    return out;
  }

  private List<List<String>> fetch(Ticket t) throws Exception {
    try (FlightStream s = client.getStream(t)) {
      return drain(s);
    }
  }

  private static List<List<String>> drain(FlightStream s) {
    List<List<String>> out = new ArrayList<>();
    while (s.next()) {
      out.addAll(rowsOf(s.getRoot(), s.getDictionaryProvider()));
    }
    return out;
  }

  /** Every row as strings, dictionary columns decoded to their labels. */
  private static List<List<String>> rowsOf(VectorSchemaRoot root, DictionaryProvider dicts) {
    List<List<String>> out = new ArrayList<>();
    for (int i = 0; i < root.getRowCount(); i++) {
      List<String> row = new ArrayList<>();
      for (FieldVector v : root.getFieldVectors()) {
        row.add(String.valueOf(v.getField().getDictionary() != null
            ? decoded(root, dicts, v.getName(), i) : v.getObject(i)));
      }
      out.add(row);
    }
    return out;
  }

  private static Object decoded(VectorSchemaRoot root, DictionaryProvider dicts, String name,
      int row) {
    FieldVector v = root.getVector(name);
    Object index = v.getObject(row);
    if (index == null) {
      return null;
    }
    Dictionary d = dicts.lookup(v.getField().getDictionary().getId());
    return String.valueOf(d.getVector().getObject((Integer) index));
  }

  private static List<RowSelection.Range> ranges(FlightInfo info) {
    return info.getEndpoints().stream().map(FlightServiceTest::range).toList();
  }

  private static RowSelection.Range range(FlightEndpoint e) {
    try {
      JsonNode t = RequestJson.MAPPER.readTree(e.getTicket().getBytes());
      return new RowSelection.Range(t.get("start").asLong(), t.get("stop").asLong());
    } catch (IOException ex) {
      throw new AssertionError(ex);
    }
  }

  private static FlightDescriptor command(String json) {
    return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
  }

  private static Ticket ticket(String json) {
    return new Ticket(json.getBytes(StandardCharsets.UTF_8));
  }

  private byte[] action(String type, String body) {
    Iterator<Result> it = client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    byte[] b = it.next().getBody();
    assertThat(it.hasNext()).isFalse();
    return b;
  }

  private JsonNode actionJson(String type, String body) throws IOException {
    return RequestJson.MAPPER.readTree(action(type, body));
  }

  private List<Object> readColumn(byte[] ipc, String name) throws IOException {
    List<Object> out = new ArrayList<>();
    try (ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(ipc), allocator)) {
      assertThat(r.getVectorSchemaRoot().getSchema().getFields()).extracting(Field::getName)
          .containsExactly(name);
      while (r.loadNextBatch()) {
        FieldVector v = r.getVectorSchemaRoot().getVector(0);
        for (int i = 0; i < v.getValueCount(); i++) {
          Object o = v.getObject(i);
          out.add(o instanceof org.apache.arrow.vector.util.Text t ? t.toString() : o);
        }
      }
    }
    return out;
  }

  private JsonNode expected(String store) throws IOException {
    return RequestJson.MAPPER.readTree(fixtures.resolve(store + ".expected.json").toFile());
  }

  private static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
      FlightStatusCode code, String inMessage) {
    assertThatThrownBy(call).isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code()).isEqualTo(code))
        .hasMessageContaining(inMessage);
  }
}
