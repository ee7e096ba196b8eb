package io.annflight.flight;

import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.Result;

/**
 * Sends a DoAction's results with backpressure: before each result it waits while gRPC still
 * holds what was sent before (the call is not ready), so a long answer (the label weights of
 * 100 million rows) is not buffered whole in the server for a client that reads slowly.
 *
 * <p>flight-core's {@link StreamListener} tells nothing of readiness; the gRPC call behind it is
 * found in the listener's field that holds it (flight-core 19 wraps the call's observer so).
 * When none is found, results go out without waiting, as before. The wait polls
 * {@code isReady()} (the transport updates it; the call's own callbacks cannot run while the
 * action blocks their thread) and ends when the call is cancelled or stays unready too long.
 */
final class PacedResults implements Consumer<byte[]> {
  /** Longest wait for a client that takes nothing. */
  static final long MAX_STALL_MILLIS = TimeUnit.MINUTES.toMillis(5);

  private final StreamListener<Result> listener;
  private final ServerCallStreamObserver<?> call;

  PacedResults(StreamListener<Result> listener) {
    this.listener = listener;
    this.call = callOf(listener);
  }

  /** Whether results wait for the call to be ready (the gRPC call was found). */
  boolean paced() {
    return call != null;
  }

  @Override
  public void accept(byte[] body) {
    if (call != null) {
      awaitReady();
    }
    listener.onNext(new Result(body));
  }

  private void awaitReady() {
    long waitedMillis = 0;
    long pause = 1;
    while (!call.isReady()) {
      if (Context.current().isCancelled()) {
        throw CallStatus.CANCELLED.withDescription("the client went away").toRuntimeException();
      }
      if (waitedMillis > MAX_STALL_MILLIS) {
        throw CallStatus.TIMED_OUT.withDescription("the client took no result for "
            + TimeUnit.MILLISECONDS.toSeconds(MAX_STALL_MILLIS) + " s").toRuntimeException();
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CallStatus.CANCELLED.withDescription("interrupted").toRuntimeException();
      }
      waitedMillis += pause;
      pause = Math.min(pause * 2, 20);
    }
  }

  /** The server call a listener writes to, or null when it holds none we can see. */
  static ServerCallStreamObserver<?> callOf(Object listener) {
    for (Class<?> c = listener.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!StreamObserver.class.isAssignableFrom(f.getType())) {
          continue;
        }
        try {
          f.setAccessible(true);
          if (f.get(listener) instanceof ServerCallStreamObserver<?> observer) {
            return observer;
          }
        } catch (ReflectiveOperationException | RuntimeException e) {
          return null; // a listener we cannot look into: no pacing
        }
      }
    }
    return null;
  }
}
