package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.RequestJson;
import io.annflight.testing.Fixtures;
import io.annflight.testing.LocalFlight;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The formats other tools write, served end to end: MuData modalities named by path, stores
 * without X, obsm data frames refused by name, MappedCollection's own arguments accepted, and
 * merged categories in Python's order across a plain and a sharded Zarr v3 store.
 */
class FormatsFlightTest {

  @TempDir Path tmp;
  Path root;
  LocalFlight local;
  FlightClient client;

  @BeforeEach
  void start() throws IOException {
    root = Files.createDirectories(tmp.resolve("root"));
    for (String name : List.of("mudata.h5mu", "v3.zarr", "v3_sharded.zarr", "pre07.h5ad",
        "pre07.zarr", "pre07_index.h5ad")) {
      Fixtures.copyTree(Fixtures.formats().resolve(name), root.resolve(name));
    }
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Fixtures.copyTree(Fixtures.formats().resolve("mudata.h5mu"), outside.resolve("m.h5mu"));
    Files.createSymbolicLink(root.resolve("link.h5mu"), outside.resolve("m.h5mu"));
    RequestResolver resolver =
        new RequestResolver(new CollectionRegistry(List.of()), DataRoot.of(root));
    local = LocalFlight.start(resolver, 50);
    client = local.client();
  }

  @AfterEach
  void stop() throws Exception {
    local.close();
  }

  @Test
  void describeListsModalitiesAndWhatEachObsmElementIs() throws IOException {
    JsonNode mu = actionJson("describe", "{\"paths\": [\"mudata.h5mu\"], \"layers_keys\": []}")
        .get("stores").get(0);
    assertThat(mu.get("modalities").toString()).isEqualTo("[\"atac\",\"rna\"]");
    assertThat(mu.get("has_x").asBoolean()).isFalse();
    JsonNode v3 = actionJson("describe", "{\"paths\": [\"v3.zarr\"]}").get("stores").get(0);
    assertThat(v3.get("obsm_kinds").toString()).isEqualTo("{\"X_pca\":\"array\",\"df\":\"dataframe\"}");
    assertThat(v3.get("has_x").asBoolean()).isTrue();
  }

  @Test
  void aModalityIsServedByItsPath() throws Exception {
    JsonNode exp = Fixtures.formatExpected("mudata.h5mu.rna");
    List<List<Object>> rows = read("{\"paths\": [\"mudata.h5mu/mod/rna\"], \"obs_keys\": [\"depth\"],"
        + " \"encode_labels\": false}", "depth");
    assertThat(rows).hasSize(exp.get("n_obs").asInt());
    for (int i = 0; i < rows.size(); i++) {
      assertThat((Double) rows.get(i).get(0))
          .isEqualTo(exp.get("obs").get("columns").get("depth").get("values").get(i).asDouble());
    }
    assertThat(actionJson("shape", "{\"paths\": [\"mudata.h5mu/mod/atac\"]}").toString())
        .isEqualTo("[10,4]");
  }

  @Test
  void describeWithTheDefaultKeysDescribesAStoreWithoutX() throws IOException {
    JsonNode d = actionJson("describe", "{\"paths\": [\"mudata.h5mu\"]}");
    JsonNode store = d.get("stores").get(0);
    assertThat(store.get("has_x").asBoolean()).isFalse();
    assertThat(store.get("obs_columns").toString()).isEqualTo("[\"total\"]");
    assertThat(d.get("request").get("layers_keys").toString()).isEqualTo("[]");
    assertThat(d.get("columns").findValuesAsText("name")).doesNotContain("X");
    // Asked for by name, X is still refused; and a store with X is described with it.
    assertThatThrownBy(() -> actionJson("describe",
        "{\"paths\": [\"mudata.h5mu\"], \"layers_keys\": [\"X\"]}"))
        .isInstanceOf(FlightRuntimeException.class)
        .hasMessageContaining("layers_keys names \"X\" but no store has X");
    JsonNode both = actionJson("describe", "{\"paths\": [\"mudata.h5mu\", \"v3.zarr\"],"
        + " \"join\": \"outer\"}");
    assertThat(both.get("columns").findValuesAsText("name")).contains("X");
    assertThat(both.get("stores").findValuesAsText("has_x")).containsExactly("false", "true");
  }

  @Test
  void anAnndata06ZarrStoreIsServed() throws Exception {
    JsonNode exp = Fixtures.formatExpected("pre07.zarr");
    String request = "{\"paths\": [\"pre07.zarr\"], \"obs_keys\": [\"kind\", \"donor\"],"
        + " \"encode_labels\": false, \"return_index\": true}";
    List<List<Object>> kinds = read(request, "kind");
    List<List<Object>> donors = read(request, "donor");
    List<List<Object>> x = read(request, "X");
    assertThat(kinds).hasSize(exp.get("n_obs").asInt());
    JsonNode cols = exp.get("obs").get("columns");
    for (int i = 0; i < kinds.size(); i++) {
      assertThat(String.valueOf(kinds.get(i).get(0)))
          .isEqualTo(cols.get("kind").get("values").get(i).asText());
      assertThat(String.valueOf(donors.get(i).get(0)))
          .isEqualTo(cols.get("donor").get("values").get(i).asText());
      List<?> row = (List<?>) x.get(i).get(0);
      JsonNode want = exp.get("matrices").get("X").get("dense").get(i);
      for (int j = 0; j < row.size(); j++) {
        assertThat(((Number) row.get(j)).floatValue())
            .isEqualTo((float) want.get(j).asDouble());
      }
    }
    JsonNode d = actionJson("describe", "{\"paths\": [\"pre07.zarr\", \"pre07_index.h5ad\"],"
        + " \"layers_keys\": [], \"join\": \"outer\"}").get("stores");
    assertThat(d.get(0).get("obs_columns").toString())
        .isEqualTo("[\"kind\",\"n_genes\",\"pct\",\"is_doublet\",\"donor\"]");
    assertThat(d.get(0).get("obsm").toString()).isEqualTo("[\"X_pca\"]");
    assertThat(d.get(1).get("obs_columns").toString()).isEqualTo("[\"kind\",\"depth\"]");
  }

  @Test
  void aStoreWithoutXServesObsOnly() throws Exception {
    String request = "{\"paths\": [\"mudata.h5mu\"], \"layers_keys\": [], \"obs_keys\": [\"total\"],"
        + " \"encode_labels\": false}";
    List<List<Object>> rows = read(request, "total");
    assertThat(rows).extracting(r -> r.get(0)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(actionJson("shape", request).toString()).isEqualTo("[10,10]");
    assertThat(actionJson("get_merged_categories", "{\"paths\": [\"mudata.h5mu\"], \"layers_keys\": [],"
        + " \"obs_keys\": [\"total\"], \"args\": {\"label_key\": \"total\"}}").toString())
        .isEqualTo("[0,1,2,3,4,5,6,7,8,9]");
    assertThatThrownBy(() -> client.getInfo(command("{\"paths\": [\"mudata.h5mu\"]}")))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("X");
  }

  @Test
  void anObsmDataFrameIsRefusedByName() {
    assertThatThrownBy(() -> read("{\"paths\": [\"v3.zarr\"], \"obsm_keys\": [\"df\"]}", null))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
            .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("obsm/df")
        .hasMessageContaining("data frame");
  }

  @Test
  void mappedCollectionsCacheCategoriesAndParallelAreAccepted() throws Exception {
    assertThat(read("{\"paths\": [\"pre07.h5ad\"], \"cache_categories\": true, \"parallel\": false}",
        null)).hasSize(16);
    assertThatThrownBy(() -> client.getInfo(command(
        "{\"paths\": [\"pre07.h5ad\"], \"parallel\": \"yes\"}")))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("parallel");
  }

  @Test
  void mergedCategoriesSortAsPythonSorts() throws IOException {
    JsonNode want = Fixtures.formatExpected("v3.zarr").get("python_sorted").get("label");
    JsonNode got = actionJson("get_merged_categories", "{\"paths\": [\"v3.zarr\", \"v3_sharded.zarr\"],"
        + " \"obs_keys\": [\"label\"], \"args\": {\"label_key\": \"label\"}}");
    assertThat(got.toString()).isEqualTo(want.toString());
  }

  @Test
  void aModalityBehindALinkOutOfTheDataRootIsRefused() {
    assertThatThrownBy(() -> client.getInfo(command("{\"paths\": [\"link.h5mu/mod/rna\"]}")))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
            .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("outside the server's data root");
    assertThatThrownBy(() -> client.getInfo(command("{\"paths\": [\"mudata.h5mu/mod/nothing\"]}")))
        .isInstanceOf(FlightRuntimeException.class)
        .hasMessageContaining("mod/nothing")
        .hasMessageContaining("this file has [atac, rna]");
  }

  /** Every row of a request, the named column's values (or no column: just the row count). */
  private List<List<Object>> read(String request, String column) throws Exception {
    FlightInfo info = client.getInfo(command(request));
    List<List<Object>> out = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      try (FlightStream s = client.getStream(e.getTicket())) {
        while (s.next()) {
          var batch = s.getRoot();
          for (int i = 0; i < batch.getRowCount(); i++) {
            out.add(column == null ? List.of() : List.of(batch.getVector(column).getObject(i)));
          }
        }
      }
    }
    return out;
  }

  private static FlightDescriptor command(String json) {
    return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode actionJson(String type, String body) throws IOException {
    Iterator<org.apache.arrow.flight.Result> it =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    byte[] b = it.next().getBody();
    while (it.hasNext()) {
      it.next();
    }
    return RequestJson.MAPPER.readTree(b);
  }
}
