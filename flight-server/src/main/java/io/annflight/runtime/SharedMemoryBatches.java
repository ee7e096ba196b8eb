package io.annflight.runtime;

import io.annflight.runtime.shm.RingFile;
import io.annflight.runtime.shm.RingRefusedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a stream's batches through a same-host client's ring of shared memory
 * ({@link RingFile}): each batch is written once into the next slot (round robin), and Flight
 * carries a zero-row batch of the same schema whose app_metadata says where it is
 * ({@code annflight-shm:{"slot":i,"length":n,"rows":r}}). A batch larger than a slot goes over
 * gRPC as usual. The listener is started with {@link #wire()}, not the stream's root.
 */
final class SharedMemoryBatches implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SharedMemoryBatches.class);
  static final String METADATA_PREFIX = "annflight-shm:";

  private final RingFile ring;
  private final VectorSchemaRoot wire;
  private final BufferAllocator allocator;
  private long sequence;
  private long overGrpc;

  private SharedMemoryBatches(RingFile ring, VectorSchemaRoot wire, BufferAllocator allocator) {
    this.ring = ring;
    this.wire = wire;
    this.allocator = allocator;
    allocateEmpty(wire);
  }

  /**
   * Gives the (zero-row) wire root buffers of its own: an unallocated list column's offsets
   * are an empty buffer that still claims one offset, which a compressing unloader cannot read.
   */
  private static void allocateEmpty(VectorSchemaRoot root) {
    for (FieldVector v : root.getFieldVectors()) {
      v.setInitialCapacity(1);
      v.allocateNew();
    }
    root.setRowCount(0);
  }

  /**
   * The ring {@code named} for a stream of {@code schema}, or null when the server will not
   * use it (the reason logged at debug level; the stream goes over gRPC).
   */
  static SharedMemoryBatches open(String named, Schema schema, BufferAllocator allocator,
      String label) {
    if (named == null) {
      return null;
    }
    if (nestedDictionary(schema.getFields())) {
      LOG.debug("{}: streams over gRPC, not through {}: a nested column is dictionary-encoded",
          label, named);
      return null;
    }
    RingFile ring;
    try {
      ring = RingFile.open(named);
    } catch (RingRefusedException e) {
      LOG.debug("{}: streams over gRPC, not through shared memory: {}", label, e.getMessage());
      return null;
    }
    VectorSchemaRoot wire = null;
    try {
      wire = VectorSchemaRoot.create(schema, allocator);
      return new SharedMemoryBatches(ring, wire, allocator);
    } catch (RuntimeException e) {
      if (wire != null) {
        wire.close();
      }
      ring.close();
      throw e;
    }
  }

  /** Sends through an already opened {@code ring}. */
  static SharedMemoryBatches open(RingFile ring, Schema schema, BufferAllocator allocator) {
    return new SharedMemoryBatches(ring, VectorSchemaRoot.create(schema, allocator), allocator);
  }

  private static boolean nestedDictionary(List<Field> fields) {
    for (Field f : fields) {
      for (Field c : f.getChildren()) {
        if (c.getDictionary() != null || nestedDictionary(List.of(c))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The root to start the listener with: empty but for the batches too large for a slot. */
  VectorSchemaRoot wire() {
    return wire;
  }

  /** Batches sent over gRPC because they did not fit a slot. */
  long sentOverGrpc() {
    return overGrpc;
  }

  /**
   * Sends the batch in {@code outbound} (leaving it empty): written into the next slot once
   * the client has freed it, announced by a zero-row batch; or, larger than a slot, over gRPC.
   *
   * @param stop true once the client is gone: the wait for a slot ends
   * @return false when {@code stop} turned true while waiting for a slot (nothing was sent)
   * @throws IOException when the batch does not fit its slot (a ring truncated under the
   *     stream faults instead: see {@link #faulted})
   */
  boolean send(VectorSchemaRoot outbound, ServerStreamListener listener, BooleanSupplier stop)
      throws IOException, InterruptedException {
    int rows = outbound.getRowCount();
    try (ArrowRecordBatch batch = new VectorUnloader(outbound, true,
        NoCompressionCodec.INSTANCE, true).getRecordBatch()) {
      if (RingFile.messageBytes(batch) > ring.slotBytes()) {
        overGrpc++;
        sendOverGrpc(outbound, listener);
        return true;
      }
      int slot = (int) (sequence % ring.slotCount());
      // A fault of the ring's mapping, raised here or later, is turned by faulted(), below.
      if (!ring.awaitFree(slot, stop)) {
        return false;
      }
      sequence++;
      int length = ring.write(slot, batch);
      ring.markWritten(slot);
      wire.setRowCount(0);
      listener.putNext(metadata("{\"slot\":" + slot + ",\"length\":" + length + ",\"rows\":"
          + rows + "}"));
    } finally {
      clear(outbound);
    }
    return true;
  }

  private void sendOverGrpc(VectorSchemaRoot outbound, ServerStreamListener listener) {
    PrefetchingBatches.transfer(outbound, wire);
    try {
      listener.putNext();
    } finally {
      // gRPC holds its own references to the buffers it still has to send.
      clear(wire);
      allocateEmpty(wire);
    }
  }

  private static void clear(VectorSchemaRoot root) {
    for (FieldVector v : root.getFieldVectors()) {
      v.clear();
    }
    root.setRowCount(0);
  }

  private ArrowBuf metadata(String json) {
    byte[] bytes = (METADATA_PREFIX + json).getBytes(StandardCharsets.UTF_8);
    ArrowBuf buf = allocator.buffer(bytes.length);
    buf.setBytes(0, bytes);
    buf.writerIndex(bytes.length);
    return buf;
  }

  /** What a stream's failure {@code t} ends it with: see {@link RingFile#faulted}. */
  Throwable faulted(Throwable t) {
    return ring.faulted(t);
  }

  /** Unmaps the ring and frees the wire root; the client's file stays (it is the client's). */
  @Override
  public void close() {
    try {
      wire.close();
    } finally {
      ring.close();
    }
  }
}
