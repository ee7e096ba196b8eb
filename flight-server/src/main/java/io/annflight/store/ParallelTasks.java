package io.annflight.store;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Runs the independent tasks of one read on several cores: the chunks of a Zarr read, the
 * projected groups of a sparse read. The calling thread works too and never waits for a helper
 * that has not started (helpers queued behind other reads find no work left and exit), so
 * concurrent readers cannot deadlock or stall each other. Blosc's own threads were slower than
 * this on the measured machine.
 */
public final class ParallelTasks {

  private final ExecutorService pool;
  private final int helpersMax;

  /** Every task on the calling thread. */
  public static final ParallelTasks SERIAL = new ParallelTasks(null, 0);

  /** @param pool the server's helper threads (null: the calling thread alone) */
  public ParallelTasks(ExecutorService pool, int helpers) {
    this.pool = pool;
    this.helpersMax = pool == null ? 0 : helpers;
  }

  /** Returns {@code task(0..n-1)}, computed in parallel; rethrows the first failure. */
  public <T> T[] all(int n, IntFunction<T[]> newArray, IntFunction<T> task) {
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
    int helpers = Math.min(helpersMax, n - 1);
    for (int h = 0; h < helpers; h++) {
      try {
        pool.execute(worker);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        break; // the server is closing: this thread decodes what is left
      }
    }
    worker.run();
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading in parallel", e);
    }
    RuntimeException e = failure.get();
    if (e != null) {
      throw e;
    }
    return out;
  }
}
