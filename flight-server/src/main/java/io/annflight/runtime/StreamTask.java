package io.annflight.runtime;

import io.annflight.arrow.BatchSizing;
import io.annflight.arrow.BatchStream;
import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.collection.CollectionPlan;
import io.annflight.schema.Compression;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.flight.BackpressureStrategy;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One DoGet: fills batches and hands them to the client as fast as it reads them. Runs on the
 * runtime's executor, not the call's serialising executor, so that its waits can be woken. A
 * stream of several batches may fill the next batch on a second thread while this one
 * compresses and sends the last ({@link FillAhead}). Every wait is woken by a signal: the
 * client ready for more (flight-core's callback backpressure), the client gone, memory back
 * for the budget, a batch handed over. Every buffer lives in the stream's own allocator, which
 * closes (checked for leaks) once gRPC has let go of the last batch.
 */
final class StreamTask implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamTask.class);

  private final StreamJob job;
  private final StreamRuntime runtime;
  private final ServerStreamListener listener;
  private final String label;
  private final Backpressure backpressure = new Backpressure();

  StreamTask(StreamJob job, StreamRuntime runtime, ServerStreamListener listener, String label) {
    this.job = job;
    this.runtime = runtime;
    this.listener = listener;
    this.label = label;
  }

  /** Flight's own on-ready wait, which also wakes this stream's other waits on cancel. */
  private static final class Backpressure
      extends BackpressureStrategy.CallbackBackpressureStrategy {
    private volatile Runnable onCancel = () -> {};

    @Override
    protected void cancelCallback() {
      onCancel.run();
    }
  }

  @Override
  public void run() {
    long t0 = System.nanoTime();
    backpressure.register(listener);
    // gRPC sends the batch's Arrow buffers themselves instead of a copy; each batch is filled
    // into fresh buffers, and a sent batch's buffers are freed once the network has them.
    listener.setUseZeroCopy(true);
    BufferAllocator allocator = runtime.allocators().open(label);
    runtime.streamStarted();
    BatchStream stream = null;
    PrefetchingBatches prefetch = null;
    SharedMemoryBatches shm = null;
    try {
      CollectionPlan plan = job.lease().plan();
      stream = BatchStream.open(plan, job.order(), job.rows(), allocator, job.rowsPerBatch());
      FillGate gate = runtime.budget().gateFor(allocator, MemoryBudget.batchBytes(
          BatchSizing.bytesPerRow(plan), job.rowsPerBatch(), job.rows().count()));
      Thread self = Thread.currentThread();
      backpressure.onCancel = () -> {
        gate.wake();
        LockSupport.unpark(self); // a wait for a shared-memory slot
      };
      VectorSchemaRoot outbound = stream.root();
      if (job.rows().count() > job.rowsPerBatch()) {
        prefetch = runtime.fillAhead().tryStart(stream, gate, listener::isCancelled);
        if (prefetch != null) {
          outbound = prefetch.root();
        }
      }
      // Through the client's ring of shared memory when it named an acceptable one: Flight
      // then carries zero-row batches saying where each batch is.
      shm = SharedMemoryBatches.open(job.sharedMemory(), outbound.getSchema(), allocator, label);
      VectorSchemaRoot wire = shm != null ? shm.wire() : outbound;
      listener.start(wire, stream.dictionaries());
      if (job.compression() != Compression.NONE) {
        CompressedBatches.enable(listener, wire, BatchCodecs.forCompression(job.compression()));
      }
      BatchStream inline = stream;
      while (!listener.isCancelled() && (prefetch != null ? prefetch.next()
          : gate.fill(listener::isCancelled, inline::next))) {
        if (!awaitReady()) {
          break;
        }
        if (shm == null) {
          listener.putNext();
        } else if (!shm.send(outbound, listener, listener::isCancelled)) {
          break;
        }
      }
      if (job.collection() != null) {
        runtime.events().streamEnded(job.collection(), stream.rowsSent(), stream.bytesSent(),
            (System.nanoTime() - t0) / 1e9);
      }
      if (listener.isCancelled()) {
        LOG.debug("{}: cancelled by the client after {} rows", label, stream.rowsSent());
      } else {
        listener.completed();
        LOG.debug("{}: {} rows, {} bytes in {} ms", label, stream.rowsSent(),
            stream.bytesSent(), (System.nanoTime() - t0) / 1_000_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      listener.error(CallStatus.CANCELLED.withDescription("server shutting down")
          .toRuntimeException());
    } catch (Throwable t) {
      // A fault of a mapped access (a store's file or the shared-memory ring cut under it) is
      // raised wherever this thread's compiled code next checks, possibly after its batch was
      // filled, inside a call that wraps it: the changed store or the ring is named.
      Throwable named = stream != null ? stream.faulted(t) : t;
      if (named == t && shm != null) {
        named = shm.faulted(t);
      }
      if (!listener.isCancelled()) {
        listener.error(runtime.errors().apply(named));
      }
    } finally {
      close(shm, prefetch, stream, allocator);
    }
  }

  /** Waits until the client can take another batch; false when it went away meanwhile. */
  private boolean awaitReady() throws InterruptedException {
    BackpressureStrategy.WaitResult r = backpressure.waitForListener(0);
    if (r == BackpressureStrategy.WaitResult.READY) {
      return true;
    }
    if (r == BackpressureStrategy.WaitResult.CANCELLED) {
      return false;
    }
    // OTHER: the wait was interrupted (it re-raised the flag), as at shutdown.
    Thread.interrupted();
    throw new InterruptedException("interrupted waiting for the client");
  }

  private void close(SharedMemoryBatches shm, PrefetchingBatches prefetch, BatchStream stream,
      BufferAllocator allocator) {
    try {
      if (shm != null) {
        shm.close();
      }
    } catch (RuntimeException e) {
      LOG.warn("{}: closing the shared-memory ring failed", label, e);
    }
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
    job.release();
    runtime.streamEnded();
    // gRPC may still hold the last batches (a slow consumer, or a client gone meanwhile).
    runtime.allocators().retire(allocator);
  }
}
