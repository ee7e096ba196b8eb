package io.annflight.flight;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A server-wide bound on the Arrow memory DoGet streams hold: batches being filled, filled
 * ahead, and sent but not yet written to the network. Before filling a batch a stream waits
 * while the server is over budget, unless it holds less than one batch itself (its first
 * batch, or all its batches gone out), so every stream makes progress. Many clients at once
 * then slow down instead of failing with RESOURCE_EXHAUSTED when direct memory runs out.
 */
final class StreamMemoryBudget {
  private static final long POLL_MILLIS = 1;

  private final BufferAllocator server;
  private final long budget;

  StreamMemoryBudget(BufferAllocator server, long budget) {
    this.server = server;
    this.budget = budget;
  }

  /** Three quarters of what the JVM and the server's allocator allow, whichever is less. */
  static StreamMemoryBudget forServer(BufferAllocator server) {
    return new StreamMemoryBudget(server, Math.min(maxDirectMemory(), server.getLimit()) / 4 * 3);
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

  /**
   * Waits until {@code stream} may fill a batch of about {@code batchBytes}; false when
   * {@code stop} turned true meanwhile.
   */
  boolean awaitRoom(BufferAllocator stream, long batchBytes, BooleanSupplier stop)
      throws InterruptedException {
    while (server.getAllocatedMemory() + batchBytes > budget
        && stream.getAllocatedMemory() >= batchBytes) {
      if (stop.getAsBoolean()) {
        return false;
      }
      Thread.sleep(POLL_MILLIS);
    }
    return !stop.getAsBoolean();
  }
}
