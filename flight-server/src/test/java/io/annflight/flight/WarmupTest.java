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
        assertThat(second).hasSameSizeAs(first);
        for (int i = 0; i < first.size(); i++) {
          if (first.get(i).endsWith(".h5ad")) {
            assertThat(second.get(i)).isNotEqualTo(first.get(i)).endsWith(first.get(i));
            assertThat(written.directory().resolve(second.get(i))).isRegularFile()
                .hasSameBinaryContentAs(written.directory().resolve(first.get(i)));
          } else {
            assertThat(second.get(i)).isEqualTo(first.get(i)); // a Zarr store, a directory
          }
        }
        assertThat(paths(written.requests(WarmupCollections.OPENINGS).get(set)))
            .isEqualTo(first);
      }
    }
  }

  private static int superblockVersion(Path h5) throws java.io.IOException {
    try (java.io.InputStream in = Files.newInputStream(h5)) {
      byte[] head = in.readNBytes(9);
      assertThat(head).hasSize(9);
      return head[8];
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
        assertThat(r.get("obs_keys")).hasSize(1);
        assertThat(r.get("obsm_keys")).hasSize(1);
      });
      assertThat(paths(written.requests().get(0))).containsExactly("dense.h5ad", "dense.zarr");
      assertThat(paths(written.requests().get(1)))
          .containsExactly(WarmupCollections.ANNDATA_CSR, "csr.h5ad", "csr.zarr");
    }
    assertThat(Files.exists(dir)).isFalse();
  }

  @Test
  void theCsrSetStartsWithAFileAnndataWroteOverTheSameGenes() throws Exception {
    try (WarmupCollections written = WarmupCollections.create()) {
      Path file = written.directory().resolve(WarmupCollections.ANNDATA_CSR);
      // h5py's layout, which jhdf's writer does not produce: superblock version 0 (byte 8 of
      // the file, after the 8-byte signature).
      assertThat(superblockVersion(file)).isZero();
      assertThat(superblockVersion(written.directory().resolve("csr.h5ad"))).isNotZero();
      io.annflight.store.AnnDataStore store = AnnDataStores.open(file);
      try {
        assertThat(store.nObs()).isEqualTo(1_024);
        assertThat(store.var().index()).isEqualTo(List.of(new io.annflight.synthetic
            .SyntheticAnnData(1, WarmupCollections.GENES, 0, false).varNames()));
        assertThat(store.matrix("X").orElseThrow().layout())
            .isEqualTo(io.annflight.store.MatrixLayout.CSR);
        assertThat(store.obs().columnNames()).contains(WarmupCollections.OBS_KEY);
        assertThat(store.obsmNames()).containsExactly("X_pca");
      } finally {
        store.close();
      }
    }
  }
}
