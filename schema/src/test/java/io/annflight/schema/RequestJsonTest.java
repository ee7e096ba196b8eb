package io.annflight.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class RequestJsonTest {
  private static final Function<String, CollectionRequest> COLLECTIONS = name -> {
    if (name.equals("atlas")) {
      return new CollectionRequest("atlas", List.of("a.h5ad", "b.zarr"), List.of("counts"),
          List.of("cell_type"), List.of(), Map.of(), JoinMode.OUTER, EncodeLabels.ALL,
          UnknownLabel.of("unknown"), ElementType.FLOAT32, null, null, null, Compression.NONE,
          EpochSpec.COLLECTION_ORDER, false, MatrixOptions.DEFAULT);
    }
    throw new RequestException("unknown collection \"" + name + "\"");
  };

  private static CollectionRequest parse(String json) {
    return RequestJson.parse(RequestJson.readObject(json.getBytes(StandardCharsets.UTF_8),
        "request"), COLLECTIONS, Set.of());
  }

  @Test
  void defaultsAreMappedCollections() {
    CollectionRequest r = parse("{\"paths\": \"a.h5ad\"}");
    assertThat(r.paths()).containsExactly("a.h5ad");
    assertThat(r.layersKeys()).containsExactly("X");
    assertThat(r.join()).isEqualTo(JoinMode.INNER);
    assertThat(r.encodeLabels()).isEqualTo(EncodeLabels.ALL);
    assertThat(r.dtype()).isNull();
    assertThat(r.rowsPerBatch()).isNull();
    assertThat(r.compression()).isEqualTo(Compression.NONE);
  }

  @Test
  void everyKeyParses() {
    CollectionRequest r = parse("{\"paths\": [\"a.h5ad\", \"b.zarr\"], \"layers_keys\": "
        + "[\"X\", \"raw.X\"], \"obs_keys\": \"cell_type\", \"obsm_keys\": [\"X_pca\"], "
        + "\"obs_filter\": {\"tissue\": \"lung\", \"n\": [1, 2.5, null, true]}, \"join\": null,"
        + " \"encode_labels\": [\"cell_type\"], \"unknown_label\": {\"cell_type\": \"unknown\"},"
        + " \"dtype\": \"float64\", \"rows_per_endpoint\": 100, \"rows_per_batch\": 10,"
        + " \"compression\": \"lz4\"}");
    assertThat(r.layersKeys()).containsExactly("X", "raw.X");
    assertThat(r.obsKeys()).containsExactly("cell_type");
    assertThat(r.obsFilter().get("tissue")).containsExactly("lung");
    assertThat(r.obsFilter().get("n")).containsExactly(1L, 2.5, null, true);
    assertThat(r.join()).isEqualTo(JoinMode.NONE);
    assertThat(r.encodedObsKeys()).containsExactly("cell_type");
    assertThat(r.unknownLabel().forKey("cell_type")).isEqualTo("unknown");
    assertThat(r.dtype()).isEqualTo(ElementType.FLOAT64);
    assertThat(r.rowsPerEndpoint()).isEqualTo(100L);
    assertThat(r.rowsPerBatch()).isEqualTo(10);
    assertThat(r.compression()).isEqualTo(Compression.LZ4);
  }

  @Test
  void collectionOptionsAreOverriddenByRequestKeys() {
    CollectionRequest r = parse("{\"collection\": \"atlas\", \"join\": \"inner\"}");
    assertThat(r.collection()).isEqualTo("atlas");
    assertThat(r.paths()).containsExactly("a.h5ad", "b.zarr");
    assertThat(r.join()).isEqualTo(JoinMode.INNER);
    assertThat(r.layersKeys()).containsExactly("counts");
    assertThat(r.dtype()).isEqualTo(ElementType.FLOAT32);
  }

  @Test
  void normalisedJsonRoundTrips() {
    CollectionRequest r = parse("{\"collection\": \"atlas\", \"obs_filter\": {\"t\": [\"x\"]},"
        + " \"encode_labels\": false, \"rows_per_batch\": 7, \"compression\": \"zstd\"}");
    byte[] json = RequestJson.toJson(r).toString().getBytes(StandardCharsets.UTF_8);
    assertThat(parse(new String(json, StandardCharsets.UTF_8))).isEqualTo(r);
  }

  @Test
  void batchesAreSizedByRowsOrByBytesNotBoth() {
    CollectionRequest bytes = parse("{\"paths\": [\"a\"], \"bytes_per_batch\": 1048576}");
    assertThat(bytes.bytesPerBatch()).isEqualTo(1L << 20);
    assertThat(bytes.rowsPerBatch()).isNull();
    byte[] json = RequestJson.toJson(bytes).toString().getBytes(StandardCharsets.UTF_8);
    assertThat(parse(new String(json, StandardCharsets.UTF_8))).isEqualTo(bytes);
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"rows_per_batch\": 8,"
        + " \"bytes_per_batch\": 1024}")).hasMessageContaining("not both");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"bytes_per_batch\": 0}"))
        .hasMessageContaining("bytes_per_batch");
  }

  @Test
  void badRequestsNameTheKey() {
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"joins\": \"inner\"}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("\"joins\"")
        .hasMessageContaining("obs_keys");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"join\": \"left\"}"))
        .hasMessageContaining("join must be");
    assertThatThrownBy(() -> parse("{}")).hasMessageContaining("neither");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"collection\": \"atlas\"}"))
        .hasMessageContaining("both");
    assertThatThrownBy(() -> parse("{\"collection\": \"nope\"}"))
        .hasMessageContaining("unknown collection \"nope\"");
    assertThatThrownBy(() -> parse("{\"paths\": [1]}")).hasMessageContaining("\"paths\"");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"rows_per_batch\": 0}"))
        .hasMessageContaining("rows_per_batch");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"obs_filter\": {\"t\": {}}}"))
        .hasMessageContaining("obs_filter value for \"t\"");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"compression\": \"gzip\"}"))
        .hasMessageContaining("compression must be \"none\", \"lz4\" or \"zstd\"")
        .hasMessageContaining("gzip");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"compression\": 1}"))
        .hasMessageContaining("\"compression\" must be a string");
    assertThatThrownBy(() -> parse("[1]")).hasMessageContaining("JSON object");
    assertThatThrownBy(() -> parse("{\"paths\": ")).hasMessageContaining("not valid JSON");
  }

  @Test
  void ticketsRoundTripAndCapIndices() {
    CollectionRequest r = parse("{\"collection\": \"atlas\"}");
    Ticket range = new Ticket(r, new RowSelection.Range(10, 20));
    assertThat(TicketJson.read(TicketJson.write(range), COLLECTIONS)).isEqualTo(range);
    Ticket idx = new Ticket(r, new RowSelection.Indices(new long[] {5, 1, 5}));
    assertThat(TicketJson.read(TicketJson.write(idx), COLLECTIONS)).isEqualTo(idx);
    assertThat(TicketJson.toText(range)).contains("\"start\":10").contains("\"stop\":20");

    long[] many = new long[RequestLimits.MAX_INDICES + 1];
    Arrays.fill(many, 1);
    byte[] tooMany = TicketJson.write(new Ticket(r, new RowSelection.Indices(many)));
    assertThatThrownBy(() -> TicketJson.read(tooMany, COLLECTIONS))
        .isInstanceOf(RequestException.class).hasMessageContaining("at most 4000000");
    assertThatThrownBy(() -> TicketJson.read("{\"request\": {\"collection\": \"atlas\"}, "
        .concat("\"start\": 5, \"stop\": 2}").getBytes(StandardCharsets.UTF_8), COLLECTIONS))
        .hasMessageContaining("start=5 stop=2");
    assertThatThrownBy(() -> TicketJson.read("{\"request\": {\"collection\": \"atlas\"}, "
        .concat("\"indices\": [1, -3]}").getBytes(StandardCharsets.UTF_8), COLLECTIONS))
        .hasMessageContaining("-3 at position 1");
  }

  @Test
  void matrixFormatAndVocabularyRoundTripAndAreChecked() {
    CollectionRequest r = parse("{\"paths\": [\"a.h5ad\"], \"matrix_format\": \"csr\","
        + " \"var_names\": [\"G2\", \"G1\"], \"var_key\": \"symbol\"}");
    assertThat(r.matrix()).isEqualTo(new MatrixOptions(MatrixFormat.CSR, List.of("G2", "G1"),
        "symbol"));
    assertThat(parse(RequestJson.toJson(r).toString()).matrix()).isEqualTo(r.matrix());
    assertThat(parse("{\"paths\": [\"a.h5ad\"]}").matrix()).isEqualTo(MatrixOptions.DEFAULT);
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"matrix_format\": \"coo\"}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("matrix_format");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"var_names\": [\"x\", \"x\"]}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("twice");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"var_key\": \"symbol\"}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("var_names");
    assertThatThrownBy(() -> parse("{\"paths\": [\"a\"], \"var_names\": []}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("at least one");
  }
}
