package io.annflight.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.flight.ConfiguredCollection;
import io.annflight.schema.ElementType;
import io.annflight.schema.JoinMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path tmp;
  Path data;

  @BeforeEach
  void setUp() throws IOException {
    data = Files.createDirectories(tmp.resolve("data")).toRealPath();
    Files.writeString(data.resolve("a.h5ad"), "x");
    Files.createDirectories(data.resolve("b.zarr"));
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(tmp.resolve(name), text);
  }

  @Test
  void readsYamlWithDataRootAndDefaultOptions() throws IOException {
    Path f = write("server.yaml", """
        data_root: data
        collections:
          pbmc:
            paths: [a.h5ad, b.zarr]
            obs_keys: [cell_type]
            join: outer
            dtype: float64
          only_a:
            paths: a.h5ad
        """);
    ServerConfig c = ServerConfig.load(f, null);
    assertThat(c.dataRoot()).isEqualTo(tmp.resolve("data"));
    assertThat(c.collections()).extracting(ConfiguredCollection::name)
        .containsExactly("pbmc", "only_a");
    ConfiguredCollection pbmc = c.collections().get(0);
    assertThat(pbmc.stores()).containsExactly(data.resolve("a.h5ad"), data.resolve("b.zarr"));
    assertThat(pbmc.request().collection()).isEqualTo("pbmc");
    assertThat(pbmc.request().obsKeys()).containsExactly("cell_type");
    assertThat(pbmc.request().join()).isEqualTo(JoinMode.OUTER);
    assertThat(pbmc.request().dtype()).isEqualTo(ElementType.FLOAT64);
    assertThat(c.collections().get(1).request().join()).isEqualTo(JoinMode.INNER);
  }

  @Test
  void readsJsonAndResolvesAgainstTheFilesDirectoryWithoutDataRoot() throws IOException {
    Path f = write("server.json",
        "{\"collections\": {\"x\": {\"paths\": [\"data/a.h5ad\"], \"layers_keys\": [\"X\"]}}}");
    ServerConfig c = ServerConfig.load(f, null);
    assertThat(c.dataRoot()).isNull();
    assertThat(c.collections().get(0).stores()).containsExactly(data.resolve("a.h5ad"));
  }

  @Test
  void commandLineDataRootWins() throws IOException {
    Path f = write("s.yml", "data_root: elsewhere\ncollections: {x: {paths: [a.h5ad]}}\n");
    ServerConfig c = ServerConfig.load(f, data);
    assertThat(c.dataRoot()).isEqualTo(data);
    assertThat(c.collections().get(0).stores()).containsExactly(data.resolve("a.h5ad"));
  }

  @Test
  void readsTheSingleCollectionFormOfTheDemo() throws IOException {
    Files.writeString(data.resolve("collection.json"),
        "{\"name\": \"demo\", \"paths\": [\"a.h5ad\", \"b.zarr\"]}");
    ServerConfig c = ServerConfig.load(data.resolve("collection.json"), data);
    assertThat(c.collections()).hasSize(1);
    assertThat(c.collections().get(0).name()).isEqualTo("demo");
    assertThat(c.collections().get(0).request().paths())
        .containsExactly(data.resolve("a.h5ad").toString(), data.resolve("b.zarr").toString());
  }

  @Test
  void errorsNameTheFileAndTheKey() throws IOException {
    Path unknownTop = write("u.yaml", "collection: {}\n");
    assertThatThrownBy(() -> ServerConfig.load(unknownTop, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("u.yaml")
        .hasMessageContaining("\"collection\"");
    Path unknownKey = write("k.yaml", "collections: {x: {paths: [data/a.h5ad], obs_key: [a]}}\n");
    assertThatThrownBy(() -> ServerConfig.load(unknownKey, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("collection \"x\"")
        .hasMessageContaining("obs_key");
    Path missing = write("m.yaml", "collections: {x: {paths: [data/nope.h5ad]}}\n");
    assertThatThrownBy(() -> ServerConfig.load(missing, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("nope.h5ad")
        .hasMessageContaining("does not exist");
    Path noPaths = write("n.yaml", "collections: {x: {obs_keys: [a]}}\n");
    assertThatThrownBy(() -> ServerConfig.load(noPaths, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("no \"paths\"");
    Path broken = write("b.yaml", "collections: [unclosed\n");
    assertThatThrownBy(() -> ServerConfig.load(broken, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("b.yaml");
    assertThatThrownBy(() -> ServerConfig.load(tmp.resolve("absent.yaml"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("absent.yaml");
  }

  @Test
  void collectionsCannotReferToEachOther() throws IOException {
    Path f = write("r.yaml", "collections: {x: {collection: y, paths: [data/a.h5ad]}}\n");
    assertThatThrownBy(() -> ServerConfig.load(f, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("another collection");
  }

  @Test
  void emptyCollectionsAreAllowed() throws IOException {
    assertThat(ServerConfig.load(write("e.yaml", "data_root: data\n"), null).collections())
        .isEqualTo(List.of());
  }
}
