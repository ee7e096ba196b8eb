package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/** DoAction results wait for the gRPC call to be ready; the call is found behind flight-core's listener. */
class PacedResultsTest {

  @Test
  void findsTheCallBehindFlightCoresListenerAndSendsEveryResult() throws Exception {
    AtomicBoolean paced = new AtomicBoolean();
    NoOpFlightProducer producer = new NoOpFlightProducer() {
      @Override
      public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
        PacedResults results = new PacedResults(listener);
        paced.set(results.paced());
        for (int i = 0; i < 50; i++) {
          results.accept(new byte[] {(byte) i});
        }
        listener.onCompleted();
      }
    };
    try (BufferAllocator allocator = new RootAllocator();
        FlightServer server = FlightServer.builder(allocator,
            Location.forGrpcInsecure("127.0.0.1", 0), producer).build().start();
        FlightClient client = FlightClient.builder(allocator,
            Location.forGrpcInsecure("127.0.0.1", server.getPort())).build()) {
      List<Byte> got = new ArrayList<>();
      client.doAction(new Action("any")).forEachRemaining(r -> got.add(r.getBody()[0]));
      assertThat(paced).as("the gRPC call found behind flight-core's listener").isTrue();
      assertThat(got).hasSize(50);
      for (int i = 0; i < 50; i++) {
        assertThat(got.get(i)).isEqualTo((byte) i);
      }
    }
  }

  @Test
  void aResultWaitsUntilTheCallIsReady() {
    FakeCall call = new FakeCall(3);
    Listener listener = new Listener(call);
    PacedResults results = new PacedResults(listener);
    assertThat(results.paced()).isTrue();
    results.accept(new byte[] {7});
    assertThat(call.readyChecks).isEqualTo(4);
    assertThat(listener.sent).hasSize(1);
  }

  @Test
  void aListenerWithoutACallSendsAtOnce() {
    Listener listener = new Listener(null);
    PacedResults results = new PacedResults(listener);
    assertThat(results.paced()).isFalse();
    results.accept(new byte[] {1});
    assertThat(listener.sent).hasSize(1);
  }

  /** A listener holding its call in a field, as flight-core's does. */
  private static final class Listener implements StreamListener<Result> {
    @SuppressWarnings("unused")
    private final StreamObserver<?> delegate;
    final List<Result> sent = new ArrayList<>();

    Listener(StreamObserver<?> delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onNext(Result val) {
      sent.add(val);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** A call that is not ready for its first {@code notReady} checks. */
  private static final class FakeCall extends ServerCallStreamObserver<Object> {
    private final int notReady;
    int readyChecks;

    FakeCall(int notReady) {
      this.notReady = notReady;
    }

    @Override
    public boolean isReady() {
      return readyChecks++ >= notReady;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(Object value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
