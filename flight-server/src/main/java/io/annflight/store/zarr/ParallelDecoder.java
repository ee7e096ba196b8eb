package io.annflight.store.zarr;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Decodes the chunks of one read on several cores. The calling thread works too and never waits
 * for a helper that has not started (helpers queued behind other reads find no work left and
 * exit), so concurrent readers cannot deadlock or stall each other. Blosc's own threads were
 * slower than this on the measured machine.
 */
final class ParallelDecoder {

  private static final int HELPERS = Math.max(0, Runtime.getRuntime().availableProcessors() - 1);

  private static final ExecutorService POOL =
      HELPERS == 0
          ? null
          : Executors.newFixedThreadPool(
              HELPERS,
              r -> {
                Thread t = new Thread(r, "zarr-chunk-decoder");
                t.setDaemon(true);
                return t;
              });

  private ParallelDecoder() {}

  /** Returns {@code task(0..n-1)}, computed in parallel; rethrows the first failure. */
  static <T> T[] all(int n, IntFunction<T[]> newArray, IntFunction<T> task) {
    T[] out = newArray.apply(n);
    if (n == 0) {
      return out;
    }
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(n);
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    Runnable worker =
        () -> {
          int i;
          while ((i = next.getAndIncrement()) < n) {
            try {
              if (failure.get() == null) {
                out[i] = task.apply(i);
              }
            } catch (RuntimeException | Error e) {
              failure.compareAndSet(null, e instanceof RuntimeException re ? re : new RuntimeException(e));
            } finally {
              done.countDown();
            }
          }
        };
    int helpers = POOL == null ? 0 : Math.min(HELPERS, n - 1);
    for (int h = 0; h < helpers; h++) {
      POOL.execute(worker);
    }
    worker.run();
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while decoding chunks", e);
    }
    RuntimeException e = failure.get();
    if (e != null) {
      throw e;
    }
    return out;
  }
}
