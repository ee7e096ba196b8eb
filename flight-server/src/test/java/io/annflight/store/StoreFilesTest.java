package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one way files of a directory store are read, and what it refuses. */
class StoreFilesTest {
  @TempDir Path tmp;

  @Test
  void readsRegularFilesAndLinksThatStayInsideTheStore() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("s.zarr/X"));
    Files.writeString(store.resolve("0.0"), "chunk");
    Files.createSymbolicLink(store.resolve("0.1"), Path.of("0.0"));
    StoreFiles files = StoreFiles.of(tmp.resolve("s.zarr"));
    assertThat(new String(files.readIfExists(store.resolve("0.1"), "X", "chunk 0.1"),
        StandardCharsets.UTF_8)).isEqualTo("chunk");
    assertThat(files.readIfExists(store.resolve("9.9"), "X", "chunk 9.9")).isNull();
  }

  @Test
  void refusesLinksLeavingTheStoreAndWhatIsNotARegularFile() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("s.zarr/X"));
    Path secret = Files.writeString(tmp.resolve("secret"), "not yours");
    Files.createSymbolicLink(store.resolve("0.0"), secret);
    Files.createDirectories(store.resolve("0.1"));
    StoreFiles files = StoreFiles.of(tmp.resolve("s.zarr"));
    assertThatThrownBy(() -> files.readIfExists(store.resolve("0.0"), "X", "chunk 0.0"))
        .isInstanceOf(StoreAccessException.class)
        .hasMessageContaining("chunk 0.0 is a symbolic link leading outside the store")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> files.readIfExists(store.resolve("0.1"), "X", "chunk 0.1"))
        .isInstanceOf(StoreAccessException.class)
        .hasMessageContaining("not a regular file (a directory)");
  }

  @Test
  void aStoreReplacedWhileItIsReadIsRefusedRatherThanMixed() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("s.zarr/X"));
    Files.writeString(store.resolve("0.0"), "old");
    StoreFiles files = StoreFiles.of(tmp.resolve("s.zarr"));
    Files.move(tmp.resolve("s.zarr"), tmp.resolve("s.zarr.old"));
    Files.createDirectories(store);
    Files.writeString(store.resolve("0.0"), "new");
    assertThatThrownBy(() -> files.readIfExists(store.resolve("0.0"), "X", "chunk 0.0"))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("replaced on disk while it was read");
    StoreFiles removed = StoreFiles.of(tmp.resolve("s.zarr"));
    Files.move(tmp.resolve("s.zarr"), tmp.resolve("s.zarr.gone"));
    assertThatThrownBy(() -> removed.readIfExists(store.resolve("0.0"), "X", "chunk 0.0"))
        .isInstanceOf(StoreNotFoundException.class)
        .hasMessageContaining("removed while it was read");
  }
}
