package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.RequestJson;
import io.annflight.store.AnnDataStores;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC health service on the Flight port (NOT_SERVING until the collections are open,
 * NOT_SERVING again while draining), and a graceful stop: a stream running when the drain
 * starts is delivered whole, and the server then refuses calls.
 */
class HealthAndDrainTest {

  @TempDir Path tmp;

  @Test
  void healthFollowsTheServerAndADrainLetsRunningStreamsFinish() throws Exception {
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    try (BufferAllocator allocator = new RootAllocator()) {
      AnnflightServer server = AnnflightServer.start(resolver, AnnDataStores::open,
          new AnnflightServer.Options("127.0.0.1", 0, null, 50), allocator);
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
          .usePlaintext().build();
      try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        assertThat(status(health, "")).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        server.serving();
        assertThat(status(health, "")).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(status(health, AnnflightServer.FLIGHT_SERVICE))
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        FlightInfo info = client.getInfo(FlightDescriptor.command(
            "{\"collection\": \"test\", \"rows_per_batch\": 5}".getBytes(StandardCharsets.UTF_8)));
        long rows = 0;
        try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
          assertThat(stream.next()).isTrue();
          rows += stream.getRoot().getRowCount();
          // The stream is running: now the server is asked to stop.
          CompletableFuture<Boolean> drained =
              CompletableFuture.supplyAsync(() -> server.drain(Duration.ofSeconds(60)));
          while (stream.next()) {
            rows += stream.getRoot().getRowCount();
          }
          var ticket = RequestJson.MAPPER.readTree(info.getEndpoints().get(0).getTicket().getBytes());
          assertThat(rows).as("the whole endpoint").isEqualTo(
              ticket.get("stop").asLong() - ticket.get("start").asLong());
          assertThat(drained.get()).as("every call finished within the drain time").isTrue();
        }
        assertThatThrownBy(() -> client.getInfo(FlightDescriptor.path("test")))
            .isInstanceOf(FlightRuntimeException.class);
      } finally {
        channel.shutdownNow();
        server.close();
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  private static HealthCheckResponse.ServingStatus status(HealthGrpc.HealthBlockingStub health,
      String service) {
    return health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }
}
