package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.schema.CollectionRequest;
import io.annflight.store.MalformedStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.flight.FlightRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Messages for clients name stores as clients name them, without the server's directories. */
class RequestResolverRedactTest {
  @TempDir Path tmp;

  @Test
  void dataRootAndOutsideCollectionFoldersAreTakenOutOfMessages() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("data")).toRealPath();
    Path elsewhere = Files.createDirectories(tmp.resolve("archive/2024")).toRealPath();
    Path inside = root.resolve("atlas/a.h5ad");
    Path outside = elsewhere.resolve("b.zarr");
    ConfiguredCollection atlas = new ConfiguredCollection("atlas",
        CollectionRequest.ofPaths(List.of("atlas/a.h5ad", "b.zarr")).withCollection("atlas",
            List.of(inside.toString(), outside.toString())), List.of(inside, outside));
    RequestResolver resolver =
        new RequestResolver(new CollectionRegistry(List.of(atlas)), DataRoot.of(root));

    assertThat(resolver.redact(inside + " at 'X': chunk 0.0 is corrupt; see also " + outside))
        .isEqualTo("atlas/a.h5ad at 'X': chunk 0.0 is corrupt; see also b.zarr");
    assertThat(resolver.redact("no path here")).isEqualTo("no path here");

    FlightRuntimeException e = FlightErrors.toFlight(
        new MalformedStoreException(inside, "X", "chunk 0.0 is corrupt"), resolver::redact);
    assertThat(e.getMessage()).contains("atlas/a.h5ad").doesNotContain(root.toString());
  }
}
