package io.annflight.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The allocators of DoGet streams: one per stream, under one parent that counts what all
 * streams hold. Each stream's allocator says when its memory goes back, which is what a
 * stream waiting for the memory budget waits for.
 *
 * <p>A stream sends its batches without copying them, so when it ends the last batches may
 * still sit in gRPC's queue: written later to a slow consumer, or dropped when the client has
 * gone. Closing the allocator then would report those buffers as leaked; waiting for them on
 * the stream's thread would hold the thread. A retired allocator with memory out therefore
 * closes when the release of its last buffer says so, on a thread of its own (never inside the
 * release), however long the consumer takes.
 */
final class StreamAllocators implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamAllocators.class);

  private final BufferAllocator streams;
  private final Runnable released;
  private final Set<Tracked> draining = ConcurrentHashMap.newKeySet();
  private final ExecutorService closer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "annflight-allocator-closer");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param streams the parent of every stream's allocator, closed with this
   * @param released told after any stream memory went back
   */
  StreamAllocators(BufferAllocator streams, Runnable released) {
    this.streams = streams;
    this.released = released;
  }

  /** Arrow memory all streams hold now, including what gRPC has not written yet. */
  long allocated() {
    return streams.getAllocatedMemory();
  }

  /** A new stream's allocator; give it back with {@link #retire}. */
  BufferAllocator open(String label) {
    Tracked t = new Tracked(label);
    t.allocator = streams.newChildAllocator(label, t, 0, streams.getLimit());
    return t.allocator;
  }

  /** The stream is over: its allocator closes now, or once gRPC has released what it holds. */
  void retire(BufferAllocator allocator) {
    if (!(allocator.getListener() instanceof Tracked t) || t.allocator != allocator) {
      throw new IllegalArgumentException(allocator.getName() + " was not opened here");
    }
    draining.add(t);
    t.retired = true;
    // A release between the two lines above closes it too; closeOnce keeps that to one.
    if (allocator.getAllocatedMemory() == 0) {
      t.closeOnce();
    }
  }

  /** Allocators of ended streams whose last buffers are still with gRPC. */
  int draining() {
    return draining.size();
  }

  /** One stream's allocator and what its releases mean. */
  private final class Tracked implements AllocationListener {
    private final String label;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long since = System.nanoTime();
    private volatile BufferAllocator allocator;
    private volatile boolean retired;

    Tracked(String label) {
      this.label = label;
    }

    @Override
    public void onRelease(long size) {
      released.run();
      if (retired && allocator.getAllocatedMemory() == 0) {
        try {
          // Not here: this runs inside Arrow's release of the buffer.
          closer.execute(this::closeOnce);
        } catch (RejectedExecutionException e) {
          // Shutting down: close() takes care of what is left.
        }
      }
    }

    void closeOnce() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      draining.remove(this);
      if (LOG.isDebugEnabled()) {
        LOG.debug("{}: allocator closed {} ms after the stream ended", label,
            (System.nanoTime() - since) / 1_000_000);
      }
      try {
        allocator.close();
      } catch (RuntimeException e) {
        // Only reachable if memory came back and went out again: a bug in the stream's code.
        LOG.error("{}: memory still allocated when its allocator closed", label, e);
      }
    }
  }

  /**
   * At shutdown, after gRPC has stopped: whatever it has not released by now it never will, so
   * it is logged and left to the server's allocator.
   */
  @Override
  public void close() {
    closer.shutdown();
    try {
      closer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Tracked t : draining) {
      if (t.allocator.getAllocatedMemory() == 0) {
        t.closeOnce();
      } else {
        LOG.debug("{}: {} bytes still held by the network at shutdown", t.label,
            t.allocator.getAllocatedMemory());
      }
    }
    if (draining.isEmpty()) {
      try {
        streams.close();
      } catch (IllegalStateException e) {
        LOG.warn("a stream still ran when the server closed: {}", e.getMessage());
      }
    }
  }
}
