package io.annflight.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.flight.CollectionRegistry;
import io.annflight.flight.ConfiguredCollection;
import io.annflight.flight.DataRoot;
import io.annflight.flight.RequestResolver;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.source.ObjectStoreSettings;
import io.annflight.store.source.ObjectStores;
import io.annflight.testing.Fixtures;
import io.annflight.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which objects a server over a bucket may serve: a configuration's {@code s3://} stores lie
 * under its {@code s3://} data root or an {@code object_roots} prefix, else it is refused at
 * startup; request paths are keys under the data root's prefix, refused as a local data root
 * refuses them ({@code ..}, absolute keys, URIs, the root itself). S3Proxy holds
 * {@code s3://cells/atlas/{a.h5ad,b.zarr}}, {@code s3://cells/extra/c.h5ad} and objects next
 * to the prefix ({@code atlas-2/}, {@code outside/}) that must stay out of reach.
 */
class ObjectRootsTest {
  private static S3ProxyServer s3;
  @TempDir static Path tmp;

  @BeforeAll
  static void startBucket() throws IOException {
    s3 = S3ProxyServer.start();
    s3.createBucket("cells");
    s3.createBucket("other");
    byte[] h5ad = Files.readAllBytes(Fixtures.dir().resolve("dense.h5ad"));
    for (String key : List.of("atlas/a.h5ad", "extra/c.h5ad", "atlas-2/d.h5ad",
        "outside/secret.h5ad")) {
      s3.put("cells", key, h5ad);
    }
    s3.put("other", "atlas/a.h5ad", h5ad);
    s3.upload(Fixtures.dir().resolve("csr.zarr"), "cells", "atlas/b.zarr");
    // The process's object store, as serve configures it from its flags.
    ObjectStores.configure(s3.settings());
  }

  @AfterAll
  static void stopBucket() {
    ObjectStores.configure(ObjectStoreSettings.defaults());
    if (s3 != null) {
      s3.close();
    }
  }

  private static Path config(String name, String yaml) throws IOException {
    return Files.writeString(tmp.resolve(name), yaml);
  }

  @Test
  void configuredObjectStoresUnderTheDataRootOrAnObjectRootAreServed() throws IOException {
    ServerConfig c = ServerConfig.load(config("ok.yaml", """
        data_root: s3://cells/atlas
        object_roots: [s3://cells/extra]
        collections:
          atlas: {paths: [a.h5ad, b.zarr, "s3://cells/atlas/a.h5ad", "s3://cells/extra/c.h5ad"]}
        """), null);
    assertThat(c.dataRoot()).hasToString("s3://cells/atlas");
    assertThat(c.collections().get(0).stores()).extracting(Path::toString).containsExactly(
        "s3://cells/atlas/a.h5ad", "s3://cells/atlas/b.zarr", "s3://cells/atlas/a.h5ad",
        "s3://cells/extra/c.h5ad");
    // --data-root on the command line is a root as the file's own data_root is.
    ServerConfig cli = ServerConfig.load(config("cli.yaml",
        "collections: {x: {paths: [\"s3://cells/atlas/b.zarr\"]}}\n"),
        ObjectStores.path("s3://cells/atlas"));
    assertThat(cli.collections().get(0).stores()).extracting(Path::toString)
        .containsExactly("s3://cells/atlas/b.zarr");
  }

  @Test
  void configuredObjectStoresOutsideEveryRootAreRefusedAtStartup() throws IOException {
    String[][] cases = {
        // {data_root, object_roots, path}
        {"s3://cells/atlas", "[]", "s3://cells/extra/c.h5ad"},
        {"s3://cells/atlas", "[]", "../outside/secret.h5ad"},
        {"s3://cells/atlas", "[]", "s3://cells/atlas/../outside/secret.h5ad"},
        {"s3://cells/atlas", "[]", "s3://cells/atlas-2/d.h5ad"}, // a sibling, not a child
        {"s3://cells/atlas", "[]", "s3://other/atlas/a.h5ad"}, // the same prefix, another bucket
        {"s3://cells/atlas", "[s3://cells/extra]", "s3://cells/outside/secret.h5ad"},
        {tmp.toString(), "[]", "s3://cells/atlas/a.h5ad"}, // a local root covers no bucket
    };
    int i = 0;
    for (String[] k : cases) {
      String name = "refused" + i++ + ".yaml";
      Path f = config(name, "data_root: " + k[0] + "\nobject_roots: " + k[1]
          + "\ncollections:\n  atlas: {paths: [\"" + k[2] + "\"]}\n");
      assertThatThrownBy(() -> ServerConfig.load(f, null)).as(String.join(" ", k))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(name)
          .hasMessageContaining("collection \"atlas\"")
          .hasMessageContaining("lies outside")
          .hasMessageContaining("object_roots");
    }
    // The single-collection form has only --data-root as its root.
    Path single = config("single.json",
        "{\"name\": \"one\", \"paths\": [\"s3://cells/extra/c.h5ad\"]}");
    assertThatThrownBy(() -> ServerConfig.load(single, ObjectStores.path("s3://cells/atlas")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("collection \"one\"")
        .hasMessageContaining("s3://cells/extra/c.h5ad");
  }

  @Test
  void objectRootsMustBeBucketPrefixes() throws IOException {
    for (String roots : List.of("/data/extra", "[/data/extra]", "[\"s3://\"]", "[{a: 1}]")) {
      Path f = config("roots.yaml", "object_roots: " + roots + "\ncollections: {}\n");
      assertThatThrownBy(() -> ServerConfig.load(f, null)).as(roots)
          .isInstanceOf(ConfigException.class).hasMessageContaining("object_roots");
    }
  }

  @Test
  void requestPathsAreKeysUnderThePrefix() {
    DataRoot root = DataRoot.of(ObjectStores.path("s3://cells/atlas"));
    assertThat(root.resolve("a.h5ad")).hasToString("s3://cells/atlas/a.h5ad");
    assertThat(root.resolve("b.zarr")).hasToString("s3://cells/atlas/b.zarr");
    assertThat(root.resolve("./b.zarr/")).hasToString("s3://cells/atlas/b.zarr");
    for (String outside : List.of("../outside/secret.h5ad", "../atlas-2/d.h5ad",
        "b.zarr/../a.h5ad", "..", "/outside/secret.h5ad", "/cells/outside/secret.h5ad",
        "s3://cells/outside/secret.h5ad", "s3://other/atlas/a.h5ad", ".", "", " ")) {
      assertThatThrownBy(() -> root.resolve(outside)).as(outside)
          .isInstanceOf(RequestException.class);
    }
    assertThatThrownBy(() -> root.resolve("../outside/secret.h5ad"))
        .hasMessageContaining("\"..\"");
    assertThatThrownBy(() -> root.resolve("/outside/secret.h5ad"))
        .hasMessageContaining("absolute");
    assertThatThrownBy(() -> root.resolve("s3://cells/outside/secret.h5ad"))
        .hasMessageContaining("is a URI");
    assertThatThrownBy(() -> root.resolve("."))
        .hasMessageContaining("data root itself");
    // A key below the prefix that is not there: not found, named as the client named it.
    assertThatThrownBy(() -> root.resolve("missing.h5ad"))
        .isInstanceOf(StoreNotFoundException.class).hasMessageContaining("missing.h5ad")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3://cells"));
    // "atlas-2" starts with "atlas" as text, not as a prefix of names.
    assertThatThrownBy(() -> root.resolve("-2/d.h5ad"))
        .isInstanceOf(StoreNotFoundException.class);
  }

  @Test
  void theResolverServesOnlyThePrefixAndHidesIt() {
    DataRoot root = DataRoot.of(ObjectStores.path("s3://cells/atlas"));
    Path inside = ObjectStores.path("s3://cells/atlas/a.h5ad");
    Path extra = ObjectStores.path("s3://cells/extra/c.h5ad");
    ConfiguredCollection atlas = new ConfiguredCollection("atlas",
        CollectionRequest.ofPaths(List.of("a.h5ad", "c.h5ad")).withCollection("atlas",
            List.of(inside.toString(), extra.toString())), List.of(inside, extra));
    RequestResolver resolver =
        new RequestResolver(new CollectionRegistry(List.of(atlas)), root);

    assertThat(resolver.storePaths(CollectionRequest.ofPaths(List.of("b.zarr", "a.h5ad"))))
        .extracting(Path::toString)
        .containsExactly("s3://cells/atlas/b.zarr", "s3://cells/atlas/a.h5ad");
    assertThatThrownBy(() -> resolver.storePaths(
        CollectionRequest.ofPaths(List.of("a.h5ad", "../outside/secret.h5ad"))))
        .isInstanceOf(RequestException.class).hasMessageContaining("../outside/secret.h5ad");
    assertThat(resolver.displayPaths(resolver.registry().request("atlas")))
        .containsExactly("a.h5ad", "c.h5ad");
    assertThat(resolver.redact("s3://cells/atlas/a.h5ad at 'X': bad; see s3://cells/extra/c.h5ad;"
        + " root s3://cells/atlas")).isEqualTo("a.h5ad at 'X': bad; see c.h5ad; root <data root>");
  }
}
