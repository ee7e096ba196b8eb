package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.RequestException;
import io.annflight.store.StoreNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataRootTest {
  @TempDir Path tmp;
  Path root;
  Path outside;
  DataRoot dataRoot;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(tmp.resolve("root"));
    outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(root.resolve("a.h5ad"), "x");
    Files.createDirectories(root.resolve("sub/b.zarr"));
    Files.writeString(outside.resolve("secret.h5ad"), "x");
    dataRoot = DataRoot.of(root);
  }

  @Test
  void resolvesRelativePathsInsideTheRoot() throws IOException {
    assertThat(dataRoot.resolve("a.h5ad")).isEqualTo(root.toRealPath().resolve("a.h5ad"));
    assertThat(dataRoot.resolveAll(List.of("a.h5ad", "sub/b.zarr", "./a.h5ad")))
        .containsExactly(root.toRealPath().resolve("a.h5ad"),
            root.toRealPath().resolve("sub/b.zarr"), root.toRealPath().resolve("a.h5ad"));
  }

  @Test
  void refusesAbsolutePaths() {
    String abs = outside.resolve("secret.h5ad").toString();
    assertThatThrownBy(() -> dataRoot.resolve(abs))
        .isInstanceOf(RequestException.class).hasMessageContaining("absolute")
        .hasMessageContaining(abs);
    // Absolute even when it points inside the root: the contract is "relative".
    String insideAbs = root.resolve("a.h5ad").toString();
    assertThatThrownBy(() -> dataRoot.resolve(insideAbs)).isInstanceOf(RequestException.class);
  }

  @Test
  void refusesDotDotEvenWhenItWouldStayInside() {
    assertThatThrownBy(() -> dataRoot.resolve("../outside/secret.h5ad"))
        .isInstanceOf(RequestException.class).hasMessageContaining("\"..\"");
    assertThatThrownBy(() -> dataRoot.resolve("sub/../a.h5ad"))
        .isInstanceOf(RequestException.class).hasMessageContaining("\"..\"");
    assertThatThrownBy(() -> dataRoot.resolve("sub/../../outside/secret.h5ad"))
        .isInstanceOf(RequestException.class);
  }

  @Test
  void refusesSymlinkEscapes() throws IOException {
    Files.createSymbolicLink(root.resolve("link.h5ad"), outside.resolve("secret.h5ad"));
    Files.createSymbolicLink(root.resolve("linkdir"), outside);
    assertThatThrownBy(() -> dataRoot.resolve("link.h5ad"))
        .isInstanceOf(RequestException.class).hasMessageContaining("symbolic link")
        .hasMessageContaining("link.h5ad");
    assertThatThrownBy(() -> dataRoot.resolve("linkdir/secret.h5ad"))
        .isInstanceOf(RequestException.class).hasMessageContaining("symbolic link");
  }

  @Test
  void followsSymlinksThatStayInside() throws IOException {
    Files.createSymbolicLink(root.resolve("alias.h5ad"), root.resolve("a.h5ad"));
    assertThat(dataRoot.resolve("alias.h5ad")).isEqualTo(root.toRealPath().resolve("a.h5ad"));
  }

  @Test
  void aRootThatIsItselfASymlinkStillWorks() throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("rootlink"), root);
    DataRoot viaLink = DataRoot.of(link);
    assertThat(viaLink.resolve("a.h5ad")).isEqualTo(root.toRealPath().resolve("a.h5ad"));
  }

  @Test
  void missingFilesAreNotFoundAndNamed() throws IOException {
    assertThatThrownBy(() -> dataRoot.resolve("nope.h5ad"))
        .isInstanceOf(StoreNotFoundException.class).hasMessageContaining("nope.h5ad")
        .hasMessageNotContaining(root.toString());
    Files.createSymbolicLink(root.resolve("dangling.h5ad"), root.resolve("gone.h5ad"));
    assertThatThrownBy(() -> dataRoot.resolve("dangling.h5ad"))
        .isInstanceOf(StoreNotFoundException.class).hasMessageContaining("dangling.h5ad");
  }

  @Test
  void refusesEmptyAndInvalidPaths() {
    assertThatThrownBy(() -> dataRoot.resolve("")).isInstanceOf(RequestException.class);
    assertThatThrownBy(() -> dataRoot.resolve("a\0b")).isInstanceOf(RequestException.class);
  }

  @Test
  void theRootMustExist() {
    assertThatThrownBy(() -> DataRoot.of(tmp.resolve("missing")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing");
  }
}
