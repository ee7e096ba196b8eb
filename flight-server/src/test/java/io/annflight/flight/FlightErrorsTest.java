package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.schema.RequestException;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.junit.jupiter.api.Test;

class FlightErrorsTest {
  private static FlightRuntimeException map(Throwable t) {
    return FlightErrors.toFlight(t);
  }

  @Test
  void badRequestsAreInvalidArgument() {
    FlightRuntimeException e = map(new RequestException("unknown request key \"foo\""));
    assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT);
    assertThat(e.getMessage()).contains("foo");
  }

  @Test
  void missingThingsAreNotFound() {
    assertThat(map(new UnknownCollectionException("x", List.of("demo"))).status().code())
        .isEqualTo(FlightStatusCode.NOT_FOUND);
    FlightRuntimeException e =
        map(new StoreNotFoundException(Path.of("a.h5ad"), "obsm/X_pca", "missing"));
    assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND);
    assertThat(e.getMessage()).contains("a.h5ad").contains("obsm/X_pca");
  }

  @Test
  void unsupportedLayoutsAreUnimplemented() {
    assertThat(map(new UnsupportedLayoutException(Path.of("b.zarr"), "X", "coo")).status().code())
        .isEqualTo(FlightStatusCode.UNIMPLEMENTED);
  }

  @Test
  void refusedFilesAreUnauthorizedAndHungOpensUnavailable() {
    assertThat(map(new io.annflight.store.StoreAccessException(Path.of("d.zarr"), "X",
        "chunk 0.0 is a FIFO")).status().code()).isEqualTo(FlightStatusCode.UNAUTHORIZED);
    FlightRuntimeException e = map(new io.annflight.collection.StoreOpenTimeoutException(
        Path.of("e.h5ad"), java.time.Duration.ofSeconds(30)));
    assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE);
    assertThat(e.getMessage()).contains("e.h5ad").contains("30 s");
  }

  @Test
  void damagedStoresAndOtherFailuresAreInternalWithTheirMessage() {
    FlightRuntimeException e = map(new MalformedStoreException(Path.of("c.h5ad"), "X", "bad"));
    assertThat(e.status().code()).isEqualTo(FlightStatusCode.INTERNAL);
    assertThat(e.getMessage()).contains("c.h5ad").contains("'X'").contains("bad");
    assertThat(map(new StoreException(Path.of("c.h5ad"), "X", "io")).status().code())
        .isEqualTo(FlightStatusCode.INTERNAL);
    assertThat(map(new IllegalStateException("boom")).status().code())
        .isEqualTo(FlightStatusCode.INTERNAL);
  }

  @Test
  void flightExceptionsPassThrough() {
    FlightRuntimeException original =
        org.apache.arrow.flight.CallStatus.CANCELLED.withDescription("c").toRuntimeException();
    assertThat(map(original)).isSameAs(original);
  }

  @Test
  void runningOutOfMemoryIsResourceExhaustedNamingTheStoreTheElementAndTheLimit() {
    FlightRuntimeException heap = map(io.annflight.store.StoreResourceException.outOfMemory(
        Path.of("big.h5ad"), "obs/_index", "reading the strings",
        new OutOfMemoryError("Java heap space")));
    assertThat(heap.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
    assertThat(heap.getMessage()).contains("big.h5ad").contains("obs/_index")
        .contains("-Xmx " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB")
        .doesNotContain("corrupt");
    FlightRuntimeException direct = map(io.annflight.store.StoreResourceException.outOfMemory(
        Path.of("big.h5ad"), "X", "reading rows",
        new OutOfMemoryError("failed to allocate 16 byte(s) of direct memory (used: 1, max: 2)")));
    assertThat(direct.getMessage()).contains("direct memory").contains("MaxDirectMemorySize");
    FlightRuntimeException arrow = map(io.annflight.store.StoreResourceException.arrow(
        Path.of("big.h5ad"), "", "filling column 'X' of a batch", 64L << 20,
        new org.apache.arrow.memory.OutOfMemoryException("Unable to allocate buffer")));
    assertThat(arrow.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
    assertThat(arrow.getMessage()).contains("Arrow memory limit 64 MiB").contains("column 'X'");
    // One that reached the service without a store still names the limit.
    assertThat(map(new OutOfMemoryError("Java heap space")).getMessage()).contains("-Xmx");
  }

  @Test
  void aStoreChangedUnderAStreamIsInternalAndSaysSo() {
    FlightRuntimeException e = map(new io.annflight.store.StoreChangedException(
        Path.of("a.h5ad"), "", "was rewritten in place while it was read"));
    assertThat(e.status().code()).isEqualTo(FlightStatusCode.INTERNAL);
    assertThat(e.getMessage()).contains("a.h5ad").contains("rewritten in place");
  }
}
