package io.annflight.store.source;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleConsumer;

/**
 * What the server's object stores fetched and what their caches answered, for the whole
 * process (object stores are shared by every server of the JVM, as their caches are). GET
 * latencies go to whoever listens (the Prometheus histogram of a running server).
 */
public final class ObjectStoreMetrics {
  private static final ObjectStoreMetrics GLOBAL = new ObjectStoreMetrics();

  final LongAdder requests = new LongAdder();
  final LongAdder getRequests = new LongAdder();
  final LongAdder bytesFetched = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder failures = new LongAdder();
  final LongAdder memoryHits = new LongAdder();
  final LongAdder memoryMisses = new LongAdder();
  final LongAdder diskHits = new LongAdder();
  final LongAdder diskMisses = new LongAdder();
  /** Blocks fetched ahead of their readers (reads in order, or a stream's plan). */
  final LongAdder blocksFetchedAhead = new LongAdder();
  private final List<DoubleConsumer> getSeconds = new CopyOnWriteArrayList<>();

  ObjectStoreMetrics() {}

  public static ObjectStoreMetrics global() {
    return GLOBAL;
  }

  /** Requests sent (HEAD, LIST, GET), retries not counted. */
  public long requests() {
    return requests.sum();
  }

  /** Ranged GETs sent. */
  public long getRequests() {
    return getRequests.sum();
  }

  public long bytesFetched() {
    return bytesFetched.sum();
  }

  /** Tries repeated after throttling, 5xx or a timeout. */
  public long retries() {
    return retries.sum();
  }

  /** Requests that failed after their retries. */
  public long failures() {
    return failures.sum();
  }

  public long memoryHits() {
    return memoryHits.sum();
  }

  public long memoryMisses() {
    return memoryMisses.sum();
  }

  public long diskHits() {
    return diskHits.sum();
  }

  public long diskMisses() {
    return diskMisses.sum();
  }

  public long blocksFetchedAhead() {
    return blocksFetchedAhead.sum();
  }

  /** Receives every GET's duration in seconds until removed. */
  public void listenToGets(DoubleConsumer seconds) {
    getSeconds.add(seconds);
  }

  public void stopListening(DoubleConsumer seconds) {
    getSeconds.remove(seconds);
  }

  void getTook(double seconds) {
    for (DoubleConsumer c : getSeconds) {
      c.accept(seconds);
    }
  }
}
