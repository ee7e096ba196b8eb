package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.store.AnnDataStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up needs no configured collection: it streams stores the server writes itself, and
 * deletes them afterwards.
 */
class WarmupTest {
  @TempDir
  Path root;

  @Test
  void aServerWithADataRootAloneWarmsUpOnStoresItWrites() throws Exception {
    try (AnnflightServer server = AnnflightServer.start(
        new RequestResolver(new CollectionRegistry(List.of()), DataRoot.of(root)),
        AnnDataStores::open, AnnflightServer.Options.local(0))) {
      // One pass: two collections (dense, csr) x 2 formats x (in order, block-shuffled) x
      // (plain, lz4), and each format projected onto some genes.
      assertThat(server.warmUp(java.time.Duration.ofMinutes(5), 500, 1)).isEqualTo(20);
      assertThat(server.producer().collectionNames()).isEmpty();
    }
  }

  @Test
  void aSecondPassReadsTheH5adFilesUnderOtherNamesSoTheyAreOpenedAgain() throws Exception {
    try (AnnflightServer server = AnnflightServer.start(
        new RequestResolver(new CollectionRegistry(List.of()), DataRoot.of(root)),
        AnnDataStores::open, AnnflightServer.Options.local(0))) {
      assertThat(server.warmUp(java.time.Duration.ofMinutes(5), 500, 2)).isEqualTo(40);
    }
    try (WarmupCollections written = WarmupCollections.create()) {
      for (int set = 0; set < 2; set++) {
        List<String> first = paths(written.requests(0).get(set));
        List<String> second = paths(written.requests(1).get(set));
        assertThat(second.get(0)).isNotEqualTo(first.get(0)).endsWith(first.get(0));
        assertThat(written.directory().resolve(second.get(0))).isRegularFile()
            .hasSameBinaryContentAs(written.directory().resolve(first.get(0)));
        assertThat(second.get(1)).isEqualTo(first.get(1)); // the Zarr store, a directory
        assertThat(paths(written.requests(WarmupCollections.OPENINGS).get(set)))
            .isEqualTo(first);
      }
    }
  }

  private static List<String> paths(com.fasterxml.jackson.databind.JsonNode request) {
    List<String> out = new java.util.ArrayList<>();
    request.get("paths").forEach(p -> out.add(p.asText()));
    return out;
  }

  @Test
  void everyVariantIsAskedForInSmallBatchesButTheProjectionsSizedByTheServer() throws Exception {
    List<com.fasterxml.jackson.databind.node.ObjectNode> bases = List.of(
        io.annflight.schema.RequestJson.MAPPER.createObjectNode().put("collection", "a"),
        io.annflight.schema.RequestJson.MAPPER.createObjectNode().put("collection", "b"));
    List<String> requests = LoopbackWarmup.requests(bases, 100, List.of("g0"));
    assertThat(requests).hasSize(20).doesNotHaveDuplicates();
    List<com.fasterxml.jackson.databind.JsonNode> parsed = new java.util.ArrayList<>();
    for (String r : requests) {
      parsed.add(io.annflight.schema.RequestJson.MAPPER.readTree(r));
    }
    assertThat(parsed).allSatisfy(r -> assertThat(r.get("rows_per_endpoint").asLong())
        .isEqualTo(100));
    assertThat(parsed.stream().filter(r -> r.has("var_names"))).hasSize(4)
        .allSatisfy(r -> assertThat(r.has("rows_per_batch")).isFalse());
    assertThat(parsed.stream().filter(r -> !r.has("var_names"))).hasSize(16)
        .allSatisfy(r -> assertThat(r.get("rows_per_batch").asInt())
            .isEqualTo(LoopbackWarmup.ROWS_PER_BATCH));
  }

  @Test
  void theWrittenStoresAreDeletedOnClose() {
    Path dir;
    try (WarmupCollections written = WarmupCollections.create()) {
      dir = written.directory();
      assertThat(dir.resolve("dense.h5ad")).isRegularFile();
      assertThat(dir.resolve("csr.zarr")).isDirectory();
      // Read as clients read a data root: by paths, with obs and obsm columns.
      assertThat(written.requests()).hasSize(2).allSatisfy(r -> {
        assertThat(r.get("paths")).hasSize(2);
        assertThat(r.get("obs_keys")).hasSize(1);
        assertThat(r.get("obsm_keys")).hasSize(1);
      });
    }
    assertThat(Files.exists(dir)).isFalse();
  }
}
