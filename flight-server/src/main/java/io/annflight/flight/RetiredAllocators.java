package io.annflight.flight;

import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the allocators of ended streams once gRPC has let go of their buffers. A stream sends
 * its batches without copying them, so when it ends, the last batches may still sit in gRPC's
 * queue: written later to a slow consumer, or dropped when the client has gone. Closing the
 * allocator before then would report those buffers as leaked; waiting for them on the stream's
 * thread would hold the thread. Here an allocator with memory out waits in a queue, checked
 * every {@link #SWEEP_MILLIS} ms, and is closed as soon as its memory is back, however long
 * the consumer takes.
 */
final class RetiredAllocators implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RetiredAllocators.class);
  static final long SWEEP_MILLIS = 20;

  private record Pending(BufferAllocator allocator, String label, long since) {}

  private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "annflight-allocator-sweeper");
        t.setDaemon(true);
        return t;
      });

  RetiredAllocators() {
    sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  /** The stream is over: close its allocator now, or once gRPC has released what it holds. */
  void retire(BufferAllocator allocator, String label) {
    if (allocator.getAllocatedMemory() == 0) {
      close(allocator, label);
    } else {
      pending.add(new Pending(allocator, label, System.nanoTime()));
    }
  }

  /** Allocators of ended streams whose last buffers are still with gRPC. */
  int draining() {
    return pending.size();
  }

  /** Closes every retired allocator whose memory is back; also run by the sweeper thread. */
  void sweep() {
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.allocator().getAllocatedMemory() == 0) {
        it.remove();
        LOG.debug("{}: the network released its last buffers {} ms after the stream ended",
            p.label(), (System.nanoTime() - p.since()) / 1_000_000);
        close(p.allocator(), p.label());
      }
    }
  }

  private static void close(BufferAllocator allocator, String label) {
    try {
      allocator.close();
    } catch (RuntimeException e) {
      // Only reachable if memory came back and went out again: a bug in the stream's code.
      LOG.error("{}: memory still allocated when its allocator closed", label, e);
    }
  }

  /**
   * At shutdown, after gRPC has stopped: whatever it has not released by now it never will, so
   * the memory goes back with the allocators (the root allocator frees it all).
   */
  @Override
  public void close() {
    sweeper.shutdownNow();
    sweep();
    for (Pending p; (p = pending.poll()) != null; ) {
      LOG.debug("{}: {} bytes still held by the network at shutdown", p.label(),
          p.allocator().getAllocatedMemory());
    }
  }
}
