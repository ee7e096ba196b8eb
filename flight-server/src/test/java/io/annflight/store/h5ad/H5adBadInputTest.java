package io.annflight.store.h5ad;

import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.AnnDataStore;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixReader;
import io.annflight.store.StoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import io.jhdf.HdfFile;
import io.jhdf.api.dataset.ChunkedDataset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Damaged or unexpected files: each fails with one typed StoreException naming the place. */
class H5adBadInputTest {

  @TempDir Path dir;

  @Test
  void missingFile() {
    Path p = dir.resolve("nope.h5ad");
    assertThatThrownBy(() -> AnnDataStores.open(p))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("no such file");
  }

  @Test
  void notAnHdf5File() throws IOException {
    Path p = dir.resolve("text.h5ad");
    Files.writeString(p, "obs,var\n1,2\n".repeat(200));
    assertThatThrownBy(() -> AnnDataStores.open(p))
        .isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("HDF5");
  }

  @Test
  void emptyFile() throws IOException {
    Path p = Files.createFile(dir.resolve("empty.h5ad"));
    assertThatThrownBy(() -> AnnDataStores.open(p)).isInstanceOf(MalformedStoreException.class);
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.3, 0.6, 0.9, 0.99})
  void truncatedFileFailsWithStoreException(double keep) throws IOException {
    for (String name : new String[] {"dense.h5ad", "csr.h5ad"}) {
      byte[] bytes = Files.readAllBytes(Fixtures.store(name));
      Path p = dir.resolve("truncated-" + name);
      Files.write(p, java.util.Arrays.copyOf(bytes, (int) (bytes.length * keep)));
      Throwable t = catchFromReadingEverything(p);
      assertThat(t).as("%s cut to %.0f%%", name, keep * 100)
          .isInstanceOf(MalformedStoreException.class);
      assertThat(t.getMessage()).contains(p.toString());
    }
  }

  @Test
  void corruptedChunkNamesTheElement() throws IOException {
    Path p = copy("dense.h5ad");
    byte[] chunk;
    try (HdfFile hdf = new HdfFile(p)) {
      ByteBuffer raw = ((ChunkedDataset) hdf.getDatasetByPath("X")).getRawChunkBuffer(
          new int[] {16, 8});
      chunk = new byte[raw.remaining()];
      raw.get(chunk);
    }
    byte[] file = Files.readAllBytes(p);
    int at = indexOf(file, java.util.Arrays.copyOf(chunk, 32), 0);
    assertThat(at).isPositive();
    for (int i = 2; i < chunk.length - 4; i++) {
      file[at + i] = (byte) 0xA5; // keep the zlib header, ruin the deflate stream
    }
    Files.write(p, file);
    try (AnnDataStore store = AnnDataStores.open(p)) {
      MatrixReader x = store.matrix("X").orElseThrow();
      assertThat(x.readRows(0, 16).nRows()).isEqualTo(16); // untouched chunks still read
      assertThatThrownBy(() -> x.readRows(20, 21))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining(p.toString()).hasMessageContaining("at 'X'")
          .hasMessageContaining("[16, 8]");
    }
  }

  @Test
  void unknownMatrixEncoding() throws IOException {
    Path p = patch("csr.h5ad", "csr_matrix", "abc_matrix");
    try (AnnDataStore store = AnnDataStores.open(p)) {
      assertThatThrownBy(() -> store.matrix("X"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining(p.toString()).hasMessageContaining("at 'X'")
          .hasMessageContaining("abc_matrix").hasMessageContaining("csr_matrix");
    }
  }

  @Test
  void unknownColumnEncoding() throws IOException {
    Path p = patch("dense.h5ad", "categorical", "categorixal");
    try (AnnDataStore store = AnnDataStores.open(p)) {
      assertThatThrownBy(() -> store.obs().column("cell_type"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("at 'obs/cell_type'").hasMessageContaining("categorixal");
      assertThat(store.obs().column("donor").length()).isEqualTo(60);
    }
  }

  @Test
  void missingSparsePart() throws IOException {
    Path p = patch("csr.h5ad", "indptr", "indpxx");
    try (AnnDataStore store = AnnDataStores.open(p)) {
      assertThatThrownBy(() -> store.matrix("X"))
          .isInstanceOf(StoreNotFoundException.class)
          .hasMessageContaining(p.toString()).hasMessageContaining("at 'X/indptr'")
          .hasMessageContaining("missing");
    }
  }

  @Test
  void missingIndex() throws IOException {
    Path p = patch("dense.h5ad", "_index", "_indey");
    assertThatThrownBy(() -> AnnDataStores.open(p))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining("at 'obs/_index'").hasMessageContaining("index");
  }

  @Test
  void missingColumn() {
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store("dense.h5ad"))) {
      assertThatThrownBy(() -> store.obs().column("no_such_column"))
          .isInstanceOf(StoreNotFoundException.class)
          .hasMessageContaining("at 'obs/no_such_column'");
    }
  }

  /**
   * Random damage: reading must end in success or a StoreException, nothing else. (Trial 6
   * damages an object header so that jhdf allocates a near-2 GB buffer before failing: slow.)
   */
  @Test
  void randomDamageNeverEscapesAsAnotherException() throws IOException {
    byte[] original = Files.readAllBytes(Fixtures.store("csr.h5ad"));
    Random random = new Random(7);
    for (int trial = 0; trial < 30; trial++) {
      byte[] bytes = original.clone();
      int at = random.nextInt(bytes.length - 64);
      for (int i = 0; i < 1 + random.nextInt(48); i++) {
        bytes[at + i] = (byte) random.nextInt(256);
      }
      Path p = dir.resolve("damaged-" + trial + ".h5ad");
      Files.write(p, bytes);
      Throwable t = catchFromReadingEverything(p);
      if (t != null) {
        assertThat(t).as("damage at byte %d", at).isInstanceOf(StoreException.class);
      }
    }
  }

  private static Throwable catchFromReadingEverything(Path p) {
    // No timeout: reads are bounded by the file's size by construction (BoundedFileChannel).
    {
      try (AnnDataStore store = AnnDataStores.open(p)) {
        for (String c : store.obs().columnNames()) {
          store.obs().column(c);
        }
        for (String c : store.var().columnNames()) {
          store.var().column(c);
        }
        for (String e : new String[] {"X", "raw/X", "layers/counts", "obsm/X_pca"}) {
          store.matrix(e).ifPresent(m -> m.readRows(0, m.nRows()));
        }
        return null;
      } catch (RuntimeException e) {
        return e;
      }
    }
  }

  private Path copy(String name) throws IOException {
    return Files.copy(Fixtures.store(name), dir.resolve("copy-" + name));
  }

  /** A copy of a fixture with every occurrence of a string replaced (same length). */
  private Path patch(String name, String from, String to) throws IOException {
    byte[] bytes = Files.readAllBytes(Fixtures.store(name));
    byte[] f = from.getBytes(StandardCharsets.US_ASCII);
    byte[] t = to.getBytes(StandardCharsets.US_ASCII);
    int n = 0;
    for (int at = indexOf(bytes, f, 0); at >= 0; at = indexOf(bytes, f, at + 1)) {
      System.arraycopy(t, 0, bytes, at, t.length);
      n++;
    }
    assertThat(n).as("occurrences of %s in %s", from, name).isPositive();
    Path p = dir.resolve("patched-" + name);
    Files.write(p, bytes);
    return p;
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
