package io.annflight.runtime;

import io.annflight.arrow.BatchStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Fills the batches of a {@link BatchStream} one ahead on another thread, so that reading and
 * assembling batch k+1 overlaps compressing and sending batch k. Filled batches wait in a
 * {@link Handoff} of one, so at most three batches are held: one being filled, one handed over,
 * one in the outbound root. Buffers move between roots by transfer, never by copy.
 *
 * <p>Used from one sending thread: {@link #next()} moves the next batch into {@link #root()}.
 */
final class PrefetchingBatches implements AutoCloseable {

  /** What the filling thread hands over: a filled batch, the end, or its failure. */
  private sealed interface Item permits Filled, End, Failed {}

  private record Filled(VectorSchemaRoot batch) implements Item {}

  private record End() implements Item {}

  private record Failed(Throwable cause) implements Item {}

  private final BatchStream stream;
  private final FillGate gate;
  private final BooleanSupplier stop;
  private final Runnable onClose;
  private final VectorSchemaRoot outbound;
  private final Handoff<Item> handoff = new Handoff<>();
  private final CountDownLatch fillerDone = new CountDownLatch(1);
  private volatile boolean closed;
  private boolean ended;

  private PrefetchingBatches(BatchStream stream, FillGate gate, BooleanSupplier stop,
      Runnable onClose) {
    this.stream = stream;
    this.gate = gate;
    this.stop = stop;
    this.onClose = onClose;
    this.outbound = VectorSchemaRoot.create(stream.root().getSchema(), stream.allocator());
  }

  /**
   * Starts filling on {@code executor}, asking {@code gate} before each batch, until the end or
   * until {@code stop} turns true (whoever turns it calls {@code gate.wake()}); {@link #close()}
   * stops it, frees every batch and then runs {@code onClose} (also when starting fails).
   */
  static PrefetchingBatches start(BatchStream stream, FillGate gate, BooleanSupplier stop,
      Executor executor, Runnable onClose) {
    PrefetchingBatches p;
    try {
      p = new PrefetchingBatches(stream, gate, stop, onClose);
    } catch (RuntimeException | Error e) {
      onClose.run();
      throw e;
    }
    try {
      executor.execute(p::fill);
    } catch (RuntimeException e) {
      p.handoff.producerDone();
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
   *
   * @throws IllegalStateException when the filling thread stopped before the end (interrupted
   *     at shutdown, or stopped because the client went away)
   */
  boolean next() throws InterruptedException {
    if (ended) {
      return false;
    }
    Item item = handoff.take();
    if (item == null) {
      ended = true;
      throw new IllegalStateException("the filling thread stopped before the stream ended");
    }
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

  private boolean stopped() {
    return closed || stop.getAsBoolean();
  }

  private void fill() {
    try {
      while (gate.fill(this::stopped, stream::next)) {
        VectorSchemaRoot batch = VectorSchemaRoot.create(stream.root().getSchema(),
            stream.allocator());
        boolean handed = false;
        try {
          transfer(stream.root(), batch);
          handed = handoff.put(new Filled(batch));
        } finally {
          // Not handed over (the consumer is gone, or this thread was interrupted while
          // waiting for room): the batch is this thread's to free.
          if (!handed) {
            batch.close();
          }
        }
        if (!handed) {
          return;
        }
      }
      if (!stopped()) {
        handoff.put(new End());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      try {
        handoff.put(new Failed(t));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } finally {
      handoff.producerDone();
      fillerDone.countDown();
    }
  }

  /** Moves {@code from}'s buffers and row count to {@code to}, leaving {@code from} empty. */
  static void transfer(VectorSchemaRoot from, VectorSchemaRoot to) {
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
    gate.wake();
    free(handoff.consumerGone());
    boolean interrupted = false;
    while (true) {
      try {
        // It ends promptly: a wait for room or to hand over was just woken.
        fillerDone.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      outbound.close();
    } finally {
      onClose.run();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void free(Item item) {
    if (item instanceof Filled f) {
      f.batch().close();
    }
  }
}
