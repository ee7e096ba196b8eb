package io.annflight.runtime;

import java.lang.reflect.Field;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.compression.CompressionCodec;

/**
 * Makes a started DoGet listener compress the buffers of every batch it sends. Arrow Java's
 * server listener has no public option for it (its client side cannot decompress either), but
 * unloads each batch through a {@link VectorUnloader} field set by {@code start}; this replaces
 * that unloader by one with a codec, exactly what Arrow's IPC file writer does. The Flight
 * version is pinned by the build, and a test streams compressed batches to pyarrow.
 */
final class CompressedBatches {
  private static final String LISTENER_CLASS =
      "org.apache.arrow.flight.OutboundStreamListenerImpl";
  private static final Field UNLOADER = unloaderField();

  private CompressedBatches() {}

  private static Field unloaderField() {
    try {
      Field f = Class.forName(LISTENER_CLASS).getDeclaredField("unloader");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Call after {@code listener.start(root, ...)} and before the first {@code putNext()}.
   *
   * @throws IllegalStateException when this Arrow Flight version's listener cannot take a codec
   */
  static void enable(ServerStreamListener listener, VectorSchemaRoot root,
      CompressionCodec codec) {
    if (UNLOADER == null || !UNLOADER.getDeclaringClass().isInstance(listener)) {
      throw new IllegalStateException("this Arrow Flight version's DoGet listener ("
          + listener.getClass().getName() + ") cannot compress batches; request "
          + "\"compression\": \"none\"");
    }
    try {
      // The same null-count and alignment choices Flight's own unloader makes.
      UNLOADER.set(listener, new VectorUnloader(root, true, codec, true));
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot install a compressing unloader", e);
    }
  }
}
