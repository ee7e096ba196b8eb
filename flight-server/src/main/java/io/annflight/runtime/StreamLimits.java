package io.annflight.runtime;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.CallStatus;

/**
 * How many DoGet streams may run at once: in all, and per client (its token's name; callers
 * without tokens count as one client). A stream takes a permit before it is started and gives
 * it back when it ends; past a limit the call is {@code RESOURCE_EXHAUSTED} saying which.
 * 0 means no limit.
 */
public final class StreamLimits {

  public static final StreamLimits NONE = new StreamLimits(0, 0);

  private final int maxStreams;
  private final int maxPerClient;
  private final AtomicInteger running = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perClient = new ConcurrentHashMap<>();

  public StreamLimits(int maxStreams, int maxPerClient) {
    if (maxStreams < 0 || maxPerClient < 0) {
      throw new IllegalArgumentException("stream limits must be 0 (none) or positive");
    }
    this.maxStreams = maxStreams;
    this.maxPerClient = maxPerClient;
  }

  /** A started stream's claim; {@link #close} gives it back (once). */
  public final class Permit implements AutoCloseable {
    private final AtomicInteger client;
    private final java.util.concurrent.atomic.AtomicBoolean closed =
        new java.util.concurrent.atomic.AtomicBoolean();

    private Permit(AtomicInteger client) {
      this.client = client;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        running.decrementAndGet();
        client.decrementAndGet();
      }
    }
  }

  /**
   * Claims a stream for a client.
   *
   * @throws org.apache.arrow.flight.FlightRuntimeException RESOURCE_EXHAUSTED naming the limit
   */
  public Permit acquire(String client) {
    String key = client == null ? "" : client;
    AtomicInteger mine = perClient.computeIfAbsent(key, k -> new AtomicInteger());
    int total = running.incrementAndGet();
    int own = mine.incrementAndGet();
    if (maxStreams > 0 && total > maxStreams) {
      running.decrementAndGet();
      mine.decrementAndGet();
      throw CallStatus.RESOURCE_EXHAUSTED.withDescription("the server runs its limit of "
          + maxStreams + " streams at once (--max-streams); try again when one ends")
          .toRuntimeException();
    }
    if (maxPerClient > 0 && own > maxPerClient) {
      running.decrementAndGet();
      mine.decrementAndGet();
      throw CallStatus.RESOURCE_EXHAUSTED.withDescription("this client runs its limit of "
          + maxPerClient + " streams at once (--max-streams-per-client); try again when one"
          + " ends").toRuntimeException();
    }
    return new Permit(mine);
  }

  /** Streams holding a permit now. */
  public int running() {
    return running.get();
  }
}
