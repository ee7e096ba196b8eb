package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.junit.jupiter.api.Test;

/** Stream permits: the global and the per-client limit, named when refused, given back once. */
class StreamLimitsTest {

  @Test
  void limitsAreCountedGloballyAndPerClientAndNamedWhenReached() {
    StreamLimits limits = new StreamLimits(3, 2);
    StreamLimits.Permit a1 = limits.acquire("alice");
    StreamLimits.Permit a2 = limits.acquire("alice");
    assertThatThrownBy(() -> limits.acquire("alice"))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
            .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("--max-streams-per-client");
    StreamLimits.Permit b1 = limits.acquire("bob");
    assertThatThrownBy(() -> limits.acquire("carol"))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("--max-streams");
    assertThat(limits.running()).isEqualTo(3);
    a1.close();
    a1.close(); // once only
    assertThat(limits.running()).isEqualTo(2);
    StreamLimits.Permit a3 = limits.acquire("alice");
    a2.close();
    a3.close();
    b1.close();
    assertThat(limits.running()).isZero();
  }

  @Test
  void aDoGetPastTheLimitIsResourceExhaustedAndTheOthersAreServed(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    StreamLimits limits = new StreamLimits(1, 0);
    try (var allocator = new org.apache.arrow.memory.RootAllocator();
        AnnflightServer server = AnnflightServer.start(resolver,
            io.annflight.store.AnnDataStores::open, new AnnflightServer.Options("127.0.0.1", 0,
                null, 100, Security.NONE, null, limits), allocator);
        var client = org.apache.arrow.flight.FlightClient.builder(allocator, server.location())
            .build()) {
      var ticket = client.getInfo(org.apache.arrow.flight.FlightDescriptor.path("test"))
          .getEndpoints().get(0).getTicket();
      StreamLimits.Permit held = limits.acquire("someone else"); // the one stream allowed
      assertThatThrownBy(() -> {
        try (var s = client.getStream(ticket)) {
          s.next();
        }
      }).isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
              .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED))
          .hasMessageContaining("--max-streams");
      held.close();
      long rows = 0;
      try (var s = client.getStream(ticket)) {
        while (s.next()) {
          rows += s.getRoot().getRowCount();
        }
      }
      assertThat(rows).isEqualTo(60);
    }
  }

  @Test
  void zeroMeansNoLimit() {
    StreamLimits none = StreamLimits.NONE;
    for (int i = 0; i < 100; i++) {
      none.acquire(null);
    }
    assertThat(none.running()).isEqualTo(100);
  }
}
