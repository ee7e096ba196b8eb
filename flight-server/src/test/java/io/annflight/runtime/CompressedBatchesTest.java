package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.schema.Compression;
import java.lang.reflect.Proxy;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
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
      // A listener that implements the interface only, as a wrapper or another Flight version
      // would.
      ServerStreamListener foreign = (ServerStreamListener) Proxy.newProxyInstance(
          getClass().getClassLoader(), new Class<?>[] {ServerStreamListener.class},
          (proxy, method, args) -> null);
      assertThatThrownBy(() -> CompressedBatches.enable(foreign, root,
          BatchCodecs.forCompression(Compression.LZ4)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(foreign.getClass().getName())
          .hasMessageContaining("\"compression\": \"none\"");
    }
  }
}
