package io.annflight.runtime;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.annflight.arrow.BatchSizing;
import io.annflight.schema.RequestException;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A server-wide bound on the Arrow memory DoGet streams hold: batches being filled, filled
 * ahead, and sent but not yet written to the network. Before filling a batch a stream waits
 * while the streams are over budget, unless it holds less than one batch itself (its first
 * batch, or all its batches gone out) and the batch still fits under the hard limit, so every
 * stream makes progress without anyone running out. Many clients at once then slow down
 * instead of failing with RESOURCE_EXHAUSTED.
 *
 * <p>Waiting is on a condition, signalled whenever the room can have grown: stream memory
 * released ({@link #released()}, called by the streams' allocators), a reservation given back
 * ({@link #filled}), or a waiter asked to stop ({@link #wake()}). Nothing polls.
 */
final class MemoryBudget {
  private static final long MAX_BATCH_BYTES = 256L << 20;

  private final LongSupplier inUse;
  private final long budget;
  private final long hardLimit;
  private final StreamEvents events;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition roomMayHaveGrown = lock.newCondition();
  /** Streams waiting or about to look; raised before looking, so no release goes unseen. */
  private final AtomicInteger waiting = new AtomicInteger();
  /** Room promised to streams filling a batch now, not yet allocated by them. */
  private long reserved;

  /**
   * @param inUse the Arrow memory the streams hold now
   * @param budget above this, only streams holding less than a batch may fill one
   * @param hardLimit nobody fills a batch that would take the streams above this
   */
  MemoryBudget(LongSupplier inUse, long budget, long hardLimit, StreamEvents events) {
    this.inUse = inUse;
    this.budget = budget;
    this.hardLimit = hardLimit;
    this.events = events;
  }

  /** Three quarters of {@code limit} (the hard limit). */
  static MemoryBudget of(LongSupplier inUse, long limit, StreamEvents events) {
    return new MemoryBudget(inUse, limit / 4 * 3, limit, events);
  }

  /** What the JVM and {@code allocator} allow: the smaller of the two. */
  static long limitFor(BufferAllocator allocator) {
    return Math.min(maxDirectMemory(), allocator.getLimit());
  }

  /** {@code -XX:MaxDirectMemorySize}, whose default (0) means the heap's maximum. */
  static long maxDirectMemory() {
    try {
      String v = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .getVMOption("MaxDirectMemorySize").getValue();
      long bytes = Long.parseLong(v);
      return bytes > 0 ? bytes : Runtime.getRuntime().maxMemory();
    } catch (RuntimeException e) {
      return Runtime.getRuntime().maxMemory();
    }
  }

  long budget() {
    return budget;
  }

  /** Largest batch one stream may fill: a quarter of the hard limit, at most 256 MiB. */
  long maxBatchBytes() {
    return Math.min(MAX_BATCH_BYTES, hardLimit / 4);
  }

  /**
   * The rows per batch of a stream of {@code rows} rows of about {@code bytesPerRow} each: the
   * request's {@code rows_per_batch}, or as many as fit {@code bytesPerBatch} (null: the
   * default target), refused when a batch would pass {@link #maxBatchBytes()} (a stream
   * waiting for room that can never be had would hang).
   */
  int rowsPerBatch(long bytesPerRow, Integer requested, Long bytesPerBatch, long rows) {
    long max = maxBatchBytes();
    int perBatch = requested != null ? requested : BatchSizing.rowsFor(bytesPerRow,
        Math.min(max, bytesPerBatch != null ? bytesPerBatch : BatchSizing.TARGET_BYTES), max);
    long filled = Math.max(1, Math.min(perBatch, rows));
    long bytes = batchBytes(bytesPerRow, perBatch, rows);
    if (bytes > max) {
      long fits = Math.max(1, filled * max / bytes);
      String what = requested != null ? "\"rows_per_batch\" of " + perBatch
          : "a batch of " + perBatch + (perBatch == 1 ? " row" : " rows");
      throw new RequestException(what + " makes batches of about " + size(bytes)
          + " for these columns; this server fills at most " + size(max)
          + " per batch, about " + fits + " rows here");
    }
    return perBatch;
  }

  /** MiB, or KiB below one MiB. */
  private static String size(long bytes) {
    return bytes >= 1L << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
  }

  /**
   * About how many bytes a batch of a stream of {@code rows} rows takes: a ticket of 10 rows
   * never fills {@code rowsPerBatch} of them.
   */
  static long batchBytes(long bytesPerRow, int rowsPerBatch, long rows) {
    return bytesPerRow * Math.max(1, Math.min(rowsPerBatch, rows));
  }

  /**
   * Waits until {@code stream} may fill a batch of about {@code batchBytes}, and holds that
   * much of the budget until {@link #filled(long)}: streams checking at once cannot all take
   * the last room. False (holding nothing) when {@code stop} turned true meanwhile; whoever
   * turns it true calls {@link #wake()}.
   */
  boolean awaitRoom(BufferAllocator stream, long batchBytes, BooleanSupplier stop)
      throws InterruptedException {
    waiting.incrementAndGet();
    long waitedSince = 0;
    lock.lock();
    try {
      while (!stop.getAsBoolean()) {
        long after = inUse.getAsLong() + reserved + batchBytes;
        if (after <= budget || stream.getAllocatedMemory() < batchBytes && after <= hardLimit) {
          reserved += batchBytes;
          return true;
        }
        if (waitedSince == 0) {
          waitedSince = System.nanoTime();
        }
        roomMayHaveGrown.await();
      }
      return false;
    } finally {
      lock.unlock();
      waiting.decrementAndGet();
      if (waitedSince != 0) {
        events.budgetWaited((System.nanoTime() - waitedSince) / 1e9);
      }
    }
  }

  /** Gives back what {@link #awaitRoom} held, once the batch's buffers count for themselves. */
  void filled(long batchBytes) {
    lock.lock();
    try {
      reserved -= batchBytes;
      roomMayHaveGrown.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Stream memory went back: waiters look again. Cheap when nobody waits. */
  void released() {
    if (waiting.get() > 0) {
      wake();
    }
  }

  /** Every waiter looks again (at its stop condition too). */
  void wake() {
    lock.lock();
    try {
      roomMayHaveGrown.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The gate a stream asks before each batch of about {@code batchBytes} it fills. */
  FillGate gateFor(BufferAllocator stream, long batchBytes) {
    return new FillGate() {
      @Override
      public boolean awaitRoom(BooleanSupplier stop) throws InterruptedException {
        return MemoryBudget.this.awaitRoom(stream, batchBytes, stop);
      }

      @Override
      public void filled() {
        MemoryBudget.this.filled(batchBytes);
      }

      @Override
      public void wake() {
        MemoryBudget.this.wake();
      }
    };
  }
}
