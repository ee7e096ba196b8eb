package io.annflight.flight;

import io.annflight.arrow.BatchStream;
import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.collection.CollectionPlan;
import io.annflight.sampling.EpochOrder;
import io.annflight.schema.Compression;
import io.annflight.schema.RowSelection;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One DoGet: fills batches and hands them to the client as fast as it reads them. Runs on the
 * service's own executor, not the call's serialising executor, so waiting for on-ready can be
 * woken. A stream of several batches may fill the next batch on a second thread while this one
 * compresses and sends the last ({@link FillAhead}). Stops as soon as the client
 * cancels or disconnects; every buffer lives in a child allocator that is closed (and checked
 * for leaks) when the stream ends, however it ends.
 */
final class StreamTask implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamTask.class);
  /** Re-check readiness and cancellation this often even when no handler fires. */
  private static final long WAIT_MILLIS = 50;

  private final CollectionPlan.Lease lease;
  private final CollectionPlan plan;
  private final EpochOrder order;
  private final RowSelection rows;
  private final int rowsPerBatch;
  private final Compression compression;
  private final StreamServices services;
  private final ServerStreamListener listener;
  private final String label;
  private final Object readyLock = new Object();

  /** @param lease the plan, whose stores stay open until the stream ends; closed by the task */
  private final StreamLimits.Permit permit;

  StreamTask(CollectionPlan.Lease lease, EpochOrder order, RowSelection rows, int rowsPerBatch,
      Compression compression, StreamServices services, ServerStreamListener listener,
      String label, StreamLimits.Permit permit) {
    this.permit = permit;
    this.lease = lease;
    this.plan = lease.plan();
    this.order = order;
    this.rows = rows;
    this.rowsPerBatch = rowsPerBatch;
    this.compression = compression;
    this.services = services;
    this.listener = listener;
    this.label = label;
  }

  @Override
  public void run() {
    long t0 = System.nanoTime();
    listener.setOnReadyHandler(this::wake);
    listener.setOnCancelHandler(this::wake);
    // gRPC sends the batch's Arrow buffers themselves instead of a copy; each batch is filled
    // into fresh buffers, and a sent batch's buffers are freed once the network has them.
    listener.setUseZeroCopy(true);
    BufferAllocator parent = services.allocator();
    BufferAllocator allocator = parent.newChildAllocator(label, 0, parent.getLimit());
    services.running().incrementAndGet();
    BatchStream stream = null;
    PrefetchingBatches prefetch = null;
    try {
      stream = BatchStream.open(plan, order, rows, allocator, rowsPerBatch);
      long batchBytes = StreamMemoryBudget.batchBytes(plan.outputSchema(), rowsPerBatch,
          rows.count());
      FillGate gate = services.budget().gateFor(allocator, batchBytes);
      VectorSchemaRoot outbound = stream.root();
      if (rows.count() > rowsPerBatch) {
        prefetch = services.fillAhead().tryStart(stream, gate);
        if (prefetch != null) {
          outbound = prefetch.root();
        }
      }
      listener.start(outbound, stream.dictionaries());
      if (compression != Compression.NONE) {
        CompressedBatches.enable(listener, outbound, BatchCodecs.forCompression(compression));
      }
      BatchStream inline = stream;
      while (!listener.isCancelled() && (prefetch != null ? prefetch.next()
          : gate.fill(listener::isCancelled, inline::next))) {
        if (!awaitReady()) {
          break;
        }
        listener.putNext();
      }
      services.metrics().streamEnded(collectionLabel(), stream.rowsSent(), stream.bytesSent(),
          (System.nanoTime() - t0) / 1e9);
      if (listener.isCancelled()) {
        LOG.debug("{}: cancelled by the client after {} rows", label, stream.rowsSent());
      } else {
        listener.completed();
        LOG.debug("{}: {} rows, {} bytes in {} ms", label, stream.rowsSent(),
            stream.bytesSent(), (System.nanoTime() - t0) / 1_000_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      listener.error(org.apache.arrow.flight.CallStatus.CANCELLED
          .withDescription("server shutting down").toRuntimeException());
    } catch (Throwable t) {
      if (!listener.isCancelled()) {
        listener.error(services.errors().apply(t));
      }
    } finally {
      close(prefetch, stream, allocator);
    }
  }

  /** The metrics label of the stream's request: its collection, or "paths". */
  private String collectionLabel() {
    String c = plan.request().collection();
    return c != null ? c : "paths";
  }

  /** Waits until the client can take another batch; false when it went away meanwhile. */
  private boolean awaitReady() throws InterruptedException {
    synchronized (readyLock) {
      while (!listener.isReady() && !listener.isCancelled()) {
        readyLock.wait(WAIT_MILLIS);
      }
    }
    return !listener.isCancelled();
  }

  private void wake() {
    synchronized (readyLock) {
      readyLock.notifyAll();
    }
  }

  private void close(PrefetchingBatches prefetch, BatchStream stream,
      BufferAllocator allocator) {
    try {
      // The filling thread first: it still uses the stream until it has stopped.
      if (prefetch != null) {
        prefetch.close();
      }
    } catch (RuntimeException e) {
      LOG.warn("{}: stopping the filling thread failed", label, e);
    }
    try {
      if (stream != null) {
        stream.close();
      }
    } catch (RuntimeException e) {
      LOG.warn("{}: closing the batch stream failed", label, e);
    }
    lease.close();
    permit.close();
    services.running().decrementAndGet();
    // gRPC may still hold the last batches (a slow consumer, or a client gone meanwhile).
    services.retired().retire(allocator, label);
  }
}
