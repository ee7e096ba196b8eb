package io.annflight.runtime;

import io.annflight.collection.CollectionPlan;
import io.annflight.sampling.EpochOrder;
import io.annflight.schema.Compression;
import io.annflight.schema.RowSelection;

/**
 * One planned DoGet, handed to the runtime: which rows of which plan, in what order, in what
 * batches. The runtime closes the lease and the permit when the stream ends, however it ends.
 *
 * @param lease the plan, whose stores stay open until the stream ends
 * @param order the epoch's positions; {@code rows} are positions in it
 * @param rowsPerBatch checked against the budget ({@link StreamRuntime#rowsPerBatch})
 * @param collection what the metrics count the stream under; null: not counted (warm-up)
 * @param permit the stream's claim on the stream limits
 * @param sharedMemory the ring file the client named for the batches (same-host shared
 *     memory, used when acceptable: {@link io.annflight.runtime.shm.RingFile}); null: gRPC
 */
public record StreamJob(CollectionPlan.Lease lease, EpochOrder order, RowSelection rows,
    int rowsPerBatch, Compression compression, String collection, StreamLimits.Permit permit,
    String sharedMemory) {

  /** Gives back what the job holds, when it never runs. */
  void release() {
    try {
      lease.close();
    } finally {
      permit.close();
    }
  }
}
