package io.annflight.flight;

import io.annflight.arrow.BatchSizing;
import io.annflight.schema.OutputSchema;
import io.annflight.schema.RequestException;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A server-wide bound on the Arrow memory DoGet streams hold: batches being filled, filled
 * ahead, and sent but not yet written to the network. Before filling a batch a stream waits
 * while the server is over budget, unless it holds less than one batch itself (its first
 * batch, or all its batches gone out) and the batch still fits under the hard limit, so every
 * stream makes progress without anyone running out. Many clients at once then slow down
 * instead of failing with RESOURCE_EXHAUSTED.
 */
final class StreamMemoryBudget {
  private static final long POLL_MILLIS = 1;
  private static final long MAX_BATCH_BYTES = 256L << 20;

  private final BufferAllocator server;
  private final long budget;
  private final long hardLimit;
  private final AtomicLong reserved = new AtomicLong();

  /**
   * @param budget above this, only streams holding less than a batch may fill one
   * @param hardLimit nobody fills a batch that would take the server above this
   */
  StreamMemoryBudget(BufferAllocator server, long budget, long hardLimit) {
    this.server = server;
    this.budget = budget;
    this.hardLimit = hardLimit;
  }

  /** Three quarters of what the JVM and the server's allocator allow (the hard limit). */
  static StreamMemoryBudget forServer(BufferAllocator server) {
    long limit = Math.min(maxDirectMemory(), server.getLimit());
    return new StreamMemoryBudget(server, limit / 4 * 3, limit);
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

  public long budget() {
    return budget;
  }

  /** Largest batch one stream may fill: a quarter of the hard limit, at most 256 MiB. */
  long maxBatchBytes() {
    return Math.min(MAX_BATCH_BYTES, hardLimit / 4);
  }

  /**
   * The rows per batch of a stream of {@code rows} rows: the request's {@code rows_per_batch}
   * or the default for the schema, refused when a batch would pass {@link #maxBatchBytes()} (a
   * stream waiting for room that can never be had would hang).
   */
  int rowsPerBatch(OutputSchema schema, Integer requested, long rows) {
    int perBatch = requested != null ? requested : BatchSizing.defaultRowsPerBatch(schema);
    long filled = Math.max(1, Math.min(perBatch, rows));
    long bytes = batchBytes(schema, perBatch, rows);
    if (bytes > maxBatchBytes()) {
      long fits = Math.max(1, filled * maxBatchBytes() / bytes);
      throw new RequestException("\"rows_per_batch\" of " + perBatch + " makes batches of about "
          + (bytes >> 20) + " MiB for these columns; this server fills at most "
          + (maxBatchBytes() >> 20) + " MiB per batch, about " + fits + " rows here");
    }
    return perBatch;
  }

  /**
   * Waits until {@code stream} may fill a batch of about {@code batchBytes}, and holds that
   * much of the budget until {@link #filled(long)}: streams checking at once cannot all take
   * the last room. False (holding nothing) when {@code stop} turned true meanwhile.
   */
  boolean awaitRoom(BufferAllocator stream, long batchBytes, BooleanSupplier stop)
      throws InterruptedException {
    while (!stop.getAsBoolean()) {
      long held = reserved.get();
      long after = server.getAllocatedMemory() + held + batchBytes;
      boolean room = after <= budget
          || stream.getAllocatedMemory() < batchBytes && after <= hardLimit;
      if (!room) {
        Thread.sleep(POLL_MILLIS);
      } else if (reserved.compareAndSet(held, held + batchBytes)) {
        return true;
      }
    }
    return false;
  }

  /**
   * About how many bytes a batch of a stream of {@code rows} rows takes: a ticket of 10 rows
   * never fills {@code rowsPerBatch} of them.
   */
  static long batchBytes(OutputSchema schema, int rowsPerBatch, long rows) {
    return BatchSizing.bytesPerBatch(schema, (int) Math.max(1, Math.min(rowsPerBatch, rows)));
  }

  /** The gate a stream asks before each batch of about {@code batchBytes} it fills. */
  FillGate gateFor(BufferAllocator stream, long batchBytes) {
    return new FillGate() {
      @Override
      public boolean awaitRoom(BooleanSupplier stop) throws InterruptedException {
        return StreamMemoryBudget.this.awaitRoom(stream, batchBytes, stop);
      }

      @Override
      public void filled() {
        StreamMemoryBudget.this.filled(batchBytes);
      }
    };
  }

  /** Gives back what {@link #awaitRoom} held, once the batch's buffers count for themselves. */
  void filled(long batchBytes) {
    reserved.addAndGet(-batchBytes);
  }
}
