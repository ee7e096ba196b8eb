package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.schema.Compression;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;

/**
 * A listener that is not Arrow Flight's own (another Flight version, a wrapper) cannot be made
 * to compress: the stream fails with a message saying what to request instead of sending
 * uncompressed batches the client did not ask for. (Flight's own listener compressing for real
 * is covered end to end by FlightServiceTest and the pyarrow tests.)
 */
class CompressedBatchesTest {

  @Test
  void aForeignListenerIsRefusedWithAMessage() {
    try (RootAllocator allocator = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(java.util.List.of()),
            allocator)) {
      assertThatThrownBy(() -> CompressedBatches.enable(new ForeignListener(), root,
          BatchCodecs.forCompression(Compression.LZ4)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(ForeignListener.class.getName())
          .hasMessageContaining("\"compression\": \"none\"");
    }
  }

  /** Implements the interface only, as a wrapper or another Flight version would. */
  private static final class ForeignListener implements ServerStreamListener {
    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {}

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void start(VectorSchemaRoot root, DictionaryProvider dictionaries, IpcOption option) {}

    @Override
    public void putNext() {}

    @Override
    public void putNext(ArrowBuf metadata) {}

    @Override
    public void putMetadata(ArrowBuf metadata) {}

    @Override
    public void error(Throwable ex) {}

    @Override
    public void completed() {}
  }
}
