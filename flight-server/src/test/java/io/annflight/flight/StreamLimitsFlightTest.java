package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.runtime.StreamLimits;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.junit.jupiter.api.Test;

/** The stream limits as a Flight client meets them. */
class StreamLimitsFlightTest {

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
}
