package io.annflight.runtime;

import io.annflight.arrow.BatchStream;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;

/**
 * Decides which streams fill their next batch on a second thread ({@link PrefetchingBatches}).
 * Filling ahead holds up to two more batches per stream, and only pays while a core is idle,
 * so at most {@code slots} streams do it at once; the others fill between sends, as a busy
 * server should. This keeps memory bounded by the streams in flight, not doubled by them.
 */
final class FillAhead {
  private final Executor executor;
  private final Semaphore slots;

  FillAhead(Executor executor, int slots) {
    this.executor = executor;
    this.slots = new Semaphore(slots);
  }

  /** One slot per core: more streams than cores keep every core busy without filling ahead. */
  static FillAhead perCore(Executor executor) {
    return new FillAhead(executor, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Starts filling {@code stream} ahead (asking {@code gate} before each batch, stopping when
   * {@code stop} turns true) when a slot is free; null otherwise (the caller fills inline). The slot is given back when the returned
   * prefetcher is closed.
   */
  PrefetchingBatches tryStart(BatchStream stream, FillGate gate, BooleanSupplier stop) {
    if (!slots.tryAcquire()) {
      return null;
    }
    // start() gives the slot back itself if it fails.
    return PrefetchingBatches.start(stream, gate, stop, executor, slots::release);
  }

  /** Free slots, for tests. */
  int available() {
    return slots.availablePermits();
  }
}
