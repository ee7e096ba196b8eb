package io.annflight.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;

/**
 * A DoGet listener with nobody behind it, for warming the server up: every batch is unloaded
 * (compressed with the codec a client would ask for) and serialised as Arrow IPC into a
 * channel that drops the bytes, which runs the code a real stream runs, minus the network.
 */
final class WarmupListener implements ServerStreamListener {
  private final CompressionCodec codec;
  private final CountDownLatch done = new CountDownLatch(1);
  private final WriteChannel sink = new WriteChannel(Channels.newChannel(OutputStream
      .nullOutputStream()));
  private volatile Throwable failure;
  private VectorUnloader unloader;

  WarmupListener(CompressionCodec codec) {
    this.codec = codec;
  }

  /** Waits (bounded) for the stream to end; its failure, if any, rethrown. */
  void await(long seconds) throws InterruptedException {
    if (!done.await(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the warm-up stream did not end within " + seconds + " s");
    }
    if (failure != null) {
      throw new IllegalStateException("the warm-up stream failed: " + failure.getMessage(),
          failure);
    }
  }

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
  public void setOnReadyHandler(Runnable handler) {}

  @Override
  public void start(VectorSchemaRoot root, DictionaryProvider dictionaries, IpcOption option) {
    // As Flight's own listener with a codec installed (CompressedBatches): one per stream.
    this.unloader = new VectorUnloader(root, true, codec, true);
  }

  @Override
  public void putNext() {
    try (ArrowRecordBatch batch = unloader.getRecordBatch()) {
      MessageSerializer.serialize(sink, batch, IpcOption.DEFAULT);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void putNext(ArrowBuf metadata) {
    putNext();
    metadata.close();
  }

  @Override
  public void putMetadata(ArrowBuf metadata) {
    metadata.close();
  }

  @Override
  public void error(Throwable ex) {
    failure = ex;
    done.countDown();
  }

  @Override
  public void completed() {
    done.countDown();
  }
}
