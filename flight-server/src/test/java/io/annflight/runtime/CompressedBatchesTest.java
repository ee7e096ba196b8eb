package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.schema.Compression;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
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
      // The warm-up's listener implements the interface only, as a wrapper or another Flight
      // version would.
      assertThatThrownBy(() -> CompressedBatches.enable(new WarmupListener(null), root,
          BatchCodecs.forCompression(Compression.LZ4)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(WarmupListener.class.getName())
          .hasMessageContaining("\"compression\": \"none\"");
    }
  }
}
