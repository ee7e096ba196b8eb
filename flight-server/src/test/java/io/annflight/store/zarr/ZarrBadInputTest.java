package io.annflight.store.zarr;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Broken stores (corrupted copies of fixtures): one typed exception naming store and element. */
class ZarrBadInputTest {

  @TempDir Path tmp;

  private Path copy(String name) throws IOException {
    Path src = Fixtures.store(name);
    Path dst = tmp.resolve(name);
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return dst;
  }

  private static void edit(Path file, String from, String to) throws IOException {
    String text = Files.readString(file);
    assertThat(text).contains(from);
    Files.writeString(file, text.replace(from, to));
  }

  @Test
  void missingPath() {
    Path p = tmp.resolve("nope.zarr");
    assertThatThrownBy(() -> AnnDataStores.open(p))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining(p.toString());
  }

  @Test
  void directoryThatIsNotAZarrGroup() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("plain"));
    Files.writeString(dir.resolve("hello.txt"), "hi");
    assertThatThrownBy(() -> AnnDataStores.open(dir))
        .isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining(".zgroup");
  }

  @Test
  void fileInsteadOfDirectory() throws IOException {
    Path file = Files.writeString(tmp.resolve("x.zarr"), "not a directory");
    assertThatThrownBy(() -> AnnDataStores.open(file)).isInstanceOf(MalformedStoreException.class);
  }

  @Test
  void invalidJsonInRootGroup() throws IOException {
    Path store = copy("dense.zarr");
    Files.writeString(store.resolve(".zgroup"), "{\"zarr_format\": 2,");
    assertThatThrownBy(() -> AnnDataStores.open(store))
        .isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining(".zgroup is not valid JSON");
  }

  @Test
  void invalidJsonInArrayMetadata() throws IOException {
    Path store = copy("dense.zarr");
    Files.writeString(store.resolve("X/.zarray"), "{ shape: [60, 24] }");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining(store.toString())
          .hasMessageContaining("at 'X'")
          .hasMessageContaining(".zarray is not valid JSON");
    }
  }

  @Test
  void invalidJsonInDataFrameAttributes() throws IOException {
    Path store = copy("dense.zarr");
    Files.writeString(store.resolve("obs/.zattrs"), "[1, 2");
    assertThatThrownBy(() -> AnnDataStores.open(store))
        .isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining("at 'obs'")
        .hasMessageContaining(".zattrs");
  }

  @Test
  void truncatedBloscChunk() throws IOException {
    Path store = copy("dense.zarr");
    Path chunk = store.resolve("X/1.1");
    byte[] bytes = Files.readAllBytes(chunk);
    Files.write(chunk, Arrays.copyOf(bytes, bytes.length / 2));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      var x = s.matrix("X").orElseThrow();
      assertThat(x.readRows(0, 16).nRows()).isEqualTo(16); // chunk row 0 is intact
      assertThatThrownBy(() -> x.readRows(10, 20))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining(store.toString())
          .hasMessageContaining("at 'X'")
          .hasMessageContaining("chunk 1.1");
    }
  }

  /** Truncated and garbage chunks for every compressor the dtypes fixture uses. */
  @ParameterizedTest
  @ValueSource(strings = {"X_blosc_zstd", "X_blosc_zlib", "X_blosc_blosclz", "X_gzip", "X_lz4", "X_zstd", "X_zlib", "X_none"})
  void corruptedChunksOfEveryCodec(String layer) throws IOException {
    Path store = copy("dtypes.zarr");
    Path chunk = store.resolve("layers/" + layer + "/0.0");
    byte[] bytes = Files.readAllBytes(chunk);
    // Uncompressed garbage of the right length is indistinguishable from data: only a wrong
    // length can be detected there.
    byte[][] variants = layer.equals("X_none")
        ? new byte[][] {Arrays.copyOf(bytes, bytes.length - 3), Arrays.copyOf(bytes, bytes.length + 8)}
        : new byte[][] {Arrays.copyOf(bytes, bytes.length - 3), garbage(bytes.length)};
    for (byte[] broken : variants) {
      Files.write(chunk, broken);
      try (AnnDataStore s = AnnDataStores.open(store)) {
        var m = s.matrix("layers/" + layer).orElseThrow();
        assertThatThrownBy(() -> m.readRows(0, 3))
            .as(layer)
            .isInstanceOf(MalformedStoreException.class)
            .hasMessageContaining("layers/" + layer)
            .hasMessageContaining("chunk 0.0");
      }
    }
  }

  private static byte[] garbage(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    b[0] = 0x7f; // not a valid blosc version / zlib / gzip / zstd magic
    return b;
  }

  @Test
  void corruptedStringChunk() throws IOException {
    Path store = copy("dense.zarr");
    Path chunk = store.resolve("obs/donor/0");
    byte[] bytes = Files.readAllBytes(chunk);
    Files.write(chunk, Arrays.copyOf(bytes, 20));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().column("donor"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("obs/donor");
    }
  }

  @Test
  void unknownColumnEncoding() throws IOException {
    Path store = copy("dense.zarr");
    edit(store.resolve("obs/cell_type/.zattrs"), "\"categorical\"", "\"awkward-array\"");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThat(s.obs().column("tissue").length()).isEqualTo(60);
      assertThatThrownBy(() -> s.obs().column("cell_type"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("obs/cell_type")
          .hasMessageContaining("awkward-array");
    }
  }

  @Test
  void unknownMatrixEncoding() throws IOException {
    Path store = copy("csr.zarr");
    edit(store.resolve("X/.zattrs"), "csr_matrix", "coo_matrix");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("coo_matrix");
    }
  }

  @Test
  void unknownCompressor() throws IOException {
    Path store = copy("dense.zarr");
    edit(store.resolve("layers/counts/.zarray"), "\"zlib\"", "\"bz2\"");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/counts"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("layers/counts")
          .hasMessageContaining("bz2");
    }
  }

  @Test
  void unknownFilter() throws IOException {
    Path store = copy("dense.zarr");
    edit(store.resolve("layers/counts/.zarray"), "\"filters\": null", "\"filters\": [{\"id\": \"delta\", \"dtype\": \"<i4\"}]");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/counts"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("delta");
    }
  }

  @Test
  void missingIndexColumn() throws IOException {
    Path store = copy("dense.zarr");
    deleteTree(store.resolve("obs/_index"));
    assertThatThrownBy(() -> AnnDataStores.open(store))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining("obs/_index");
  }

  @Test
  void missingObs() throws IOException {
    Path store = copy("dense.zarr");
    deleteTree(store.resolve("obs"));
    assertThatThrownBy(() -> AnnDataStores.open(store))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining("at 'obs'");
  }

  @Test
  void missingSparseArray() throws IOException {
    Path store = copy("csr.zarr");
    deleteTree(store.resolve("X/indptr"));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X"))
          .isInstanceOf(StoreNotFoundException.class)
          .hasMessageContaining("X/indptr");
    }
  }

  @Test
  void missingCategoriesOfACategorical() throws IOException {
    Path store = copy("dense.zarr");
    deleteTree(store.resolve("obs/cell_type/categories"));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().column("cell_type"))
          .isInstanceOf(StoreNotFoundException.class)
          .hasMessageContaining("obs/cell_type/categories");
    }
  }

  @Test
  void missingLegacyCategoriesArray() throws IOException {
    Path store = copy("legacy.zarr");
    deleteTree(store.resolve("obs/__categories/cell_type"));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().column("cell_type"))
          .isInstanceOf(StoreNotFoundException.class)
          .hasMessageContaining("obs/__categories/cell_type");
    }
  }

  @Test
  void indptrInconsistentWithData() throws IOException {
    Path store = copy("csr.zarr");
    edit(store.resolve("X/.zattrs"), "50,", "49,");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("X/indptr");
    }
  }

  @Test
  void everyFailureIsAStoreException() throws IOException {
    Path store = copy("dense.zarr");
    Files.writeString(store.resolve("obs/n_genes/.zarray"), "");
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().column("n_genes")).isInstanceOf(StoreException.class).hasMessageContaining("obs/n_genes");
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
    assertThat(Files.exists(root)).isFalse();
  }

}
