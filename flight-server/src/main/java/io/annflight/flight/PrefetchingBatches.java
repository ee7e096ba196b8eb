package io.annflight.flight;

import io.annflight.arrow.BatchStream;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Fills the batches of a {@link BatchStream} one ahead on another thread, so that reading and
 * assembling batch k+1 overlaps compressing and sending batch k. Filled batches wait in a queue
 * of one, so at most three batches are held: one being filled, one queued, one in the
 * outbound root. Buffers move between roots by transfer, never by copy.
 *
 * <p>Used from one sending thread: {@link #next()} moves the next batch into {@link #root()}.
 */
final class PrefetchingBatches implements AutoCloseable {
  private static final long POLL_MILLIS = 50;

  /** What the filling thread hands over: a filled batch, the end, or its failure. */
  private sealed interface Item permits Filled, End, Failed {}

  private record Filled(VectorSchemaRoot batch) implements Item {}

  private record End() implements Item {}

  private record Failed(Throwable cause) implements Item {}

  private final BatchStream stream;
  private final FillGate gate;
  private final Runnable onClose;
  private final VectorSchemaRoot outbound;
  private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(1);
  private final CountDownLatch fillerDone = new CountDownLatch(1);
  private volatile boolean closed;
  private boolean ended;

  private PrefetchingBatches(BatchStream stream, FillGate gate, Runnable onClose) {
    this.stream = stream;
    this.gate = gate;
    this.onClose = onClose;
    this.outbound = VectorSchemaRoot.create(stream.root().getSchema(), stream.allocator());
  }

  /**
   * Starts filling on {@code executor}, asking {@code gate} before each batch; {@link #close()}
   * stops it, frees every batch and then runs {@code onClose} (also when starting fails).
   */
  static PrefetchingBatches start(BatchStream stream, FillGate gate, Executor executor,
      Runnable onClose) {
    PrefetchingBatches p;
    try {
      p = new PrefetchingBatches(stream, gate, onClose);
    } catch (RuntimeException | Error e) {
      onClose.run();
      throw e;
    }
    try {
      executor.execute(p::fill);
    } catch (RuntimeException e) {
      p.fillerDone.countDown();
      p.close();
      throw e;
    }
    return p;
  }

  /** The root each batch is moved into; hand this one to the Flight listener. */
  VectorSchemaRoot root() {
    return outbound;
  }

  /**
   * Moves the next filled batch into {@link #root()}; false once every row was handed over.
   * A failure while filling is rethrown here, on the sending thread.
   */
  boolean next() throws InterruptedException {
    if (ended) {
      return false;
    }
    Item item = take();
    if (item instanceof Filled f) {
      try (VectorSchemaRoot batch = f.batch()) {
        transfer(batch, outbound);
      }
      return true;
    }
    ended = true;
    if (item instanceof Failed failed) {
      if (failed.cause() instanceof RuntimeException e) {
        throw e;
      }
      if (failed.cause() instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(failed.cause());
    }
    return false;
  }

  /** The next item; fails if the filling thread ended without one (interrupted at shutdown). */
  private Item take() throws InterruptedException {
    while (true) {
      Item item = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      if (item != null) {
        return item;
      }
      if (fillerDone.getCount() == 0) {
        item = queue.poll();
        if (item == null) {
          throw new IllegalStateException("the filling thread stopped before the stream ended");
        }
        return item;
      }
    }
  }

  private void fill() {
    try {
      while (gate.fill(() -> closed, stream::next)) {
        VectorSchemaRoot batch = VectorSchemaRoot.create(stream.root().getSchema(),
            stream.allocator());
        transfer(stream.root(), batch);
        if (!hand(new Filled(batch))) {
          batch.close();
          return;
        }
      }
      if (!closed) {
        hand(new End());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      hand(new Failed(t));
    } finally {
      fillerDone.countDown();
    }
  }

  /** Queues an item, waiting while the queue is full; false when closed meanwhile. */
  private boolean hand(Item item) {
    try {
      while (!closed) {
        if (queue.offer(item, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  private static void transfer(VectorSchemaRoot from, VectorSchemaRoot to) {
    List<FieldVector> src = from.getFieldVectors();
    List<FieldVector> dst = to.getFieldVectors();
    for (int i = 0; i < src.size(); i++) {
      src.get(i).makeTransferPair(dst.get(i)).transfer();
    }
    to.setRowCount(from.getRowCount());
    from.setRowCount(0);
  }

  /** Stops the filling thread, waits for it, and frees every batch not yet sent. */
  @Override
  public void close() {
    closed = true;
    boolean interrupted = false;
    while (true) {
      drain();
      try {
        if (fillerDone.await(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    drain();
    try {
      outbound.close();
    } finally {
      onClose.run();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void drain() {
    for (Item item; (item = queue.poll()) != null; ) {
      if (item instanceof Filled f) {
        f.batch().close();
      }
    }
  }
}
