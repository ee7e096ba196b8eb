package io.annflight.runtime;

import io.annflight.arrow.BatchSizing;
import io.annflight.collection.CollectionPlan;
import io.annflight.schema.CollectionRequest;
import io.annflight.store.StoreResources;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Where a server's streams run, and the thread and memory policy they share: the stream
 * threads, the stream limits, the memory budget and the streams' allocators, the fill-ahead
 * slots, and the readers' resources (the HDF5 chunk cache, the Zarr decoder threads). The
 * Flight producer plans a {@link StreamJob} and hands it over with {@link #start}; closing the
 * runtime stops the streams and frees all of it.
 */
public final class StreamRuntime implements AutoCloseable {
  private final StreamLimits limits;
  private final StreamEvents events;
  private final Function<Throwable, FlightRuntimeException> errors;
  private final ExecutorService streams = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "annflight-stream");
    t.setDaemon(true);
    return t;
  });
  private final StoreResources storeResources = new StoreResources();
  private final MemoryBudget budget;
  private final StreamAllocators allocators;
  private final FillAhead fillAhead = FillAhead.perCore(streams);
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicLong streamIds = new AtomicLong();

  /**
   * @param server the allocator stream memory comes from; the budget is three quarters of
   *     what it and the JVM allow
   * @param errors how a failure is told to the client (its status, a message fit for it)
   */
  public StreamRuntime(BufferAllocator server, StreamLimits limits, StreamEvents events,
      Function<Throwable, FlightRuntimeException> errors) {
    this.limits = limits;
    this.events = events;
    this.errors = errors;
    // The budget measures what the streams' allocators hold; they tell it of every release.
    BufferAllocator streamMemory = server.newChildAllocator("streams", 0, server.getLimit());
    this.budget = MemoryBudget.of(streamMemory::getAllocatedMemory,
        MemoryBudget.limitFor(server), events);
    this.allocators = new StreamAllocators(streamMemory, budget::released);
  }

  /** The readers' shared resources: hand them to every store this server opens. */
  public StoreResources storeResources() {
    return storeResources;
  }

  /**
   * Claims a stream for a client before it is planned.
   *
   * @throws FlightRuntimeException RESOURCE_EXHAUSTED naming the limit reached
   */
  public StreamLimits.Permit admit(String client) {
    return limits.acquire(client);
  }

  /**
   * The rows per batch for a stream of {@code rows} rows of {@code schema}.
   *
   * @throws io.annflight.schema.RequestException when such a batch passes what one stream may
   *     fill
   */
  public int rowsPerBatch(CollectionPlan plan, CollectionRequest request, long rows) {
    return budget.rowsPerBatch(BatchSizing.bytesPerRow(plan), request.rowsPerBatch(),
        request.bytesPerBatch(), rows);
  }

  /**
   * Runs the stream on a runtime thread and returns at once; the job's lease and permit are
   * given back when it ends. Refused with UNAVAILABLE once the runtime is closing.
   */
  public void start(StreamJob job, ServerStreamListener listener) {
    StreamTask task = new StreamTask(job, this, listener,
        "stream-" + streamIds.incrementAndGet());
    try {
      streams.execute(task);
    } catch (RejectedExecutionException e) {
      job.release();
      listener.error(CallStatus.UNAVAILABLE.withDescription("server is shutting down")
          .toRuntimeException());
    }
  }

  /** Streams being filled or sent now. */
  public int running() {
    return running.get();
  }

  /** Ended streams whose last batches gRPC still holds. */
  public int draining() {
    return allocators.draining();
  }

  /** Arrow memory the streams hold now. */
  public long allocatedBytes() {
    return allocators.allocated();
  }

  /** Stream memory above which streams holding a batch wait before filling another. */
  public long budgetBytes() {
    return budget.budget();
  }

  StreamAllocators allocators() {
    return allocators;
  }

  MemoryBudget budget() {
    return budget;
  }

  FillAhead fillAhead() {
    return fillAhead;
  }

  StreamEvents events() {
    return events;
  }

  Function<Throwable, FlightRuntimeException> errors() {
    return errors;
  }

  void streamStarted() {
    running.incrementAndGet();
  }

  void streamEnded() {
    running.decrementAndGet();
  }

  /**
   * Stops the streams (interrupting what still runs: call after the gRPC server stopped), then
   * closes the streams' allocators and the readers' resources.
   */
  @Override
  public void close() {
    streams.shutdownNow();
    try {
      streams.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      org.apache.arrow.util.AutoCloseables.closeNoChecked(allocators);
      storeResources.close();
    }
  }
}
