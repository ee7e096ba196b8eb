package io.annflight.store;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What the readers of one server share and the server closes: the caches of decompressed HDF5
 * and Zarr chunks (each bounded in bytes) and the pool that decodes a Zarr read's chunks on
 * several cores.
 * Two servers in one JVM have their own. {@link #shared()} serves callers that open a store
 * outside a server (tools, tests).
 */
public final class StoreResources implements AutoCloseable {

  /** Decompressed HDF5 chunks kept across reads and streams. */
  public static final long HDF5_CHUNK_CACHE_BYTES = 64L << 20;

  private static final class Shared {
    static final StoreResources INSTANCE = new StoreResources();
  }

  /**
   * Decoded Zarr chunks and shard indexes, shared by every Zarr store (one scope per opening):
   * 256 MiB, at most an eighth of the heap. A cache per store held up to 64 MiB each, without
   * bound in the number of stores.
   */
  public static final long ZARR_CHUNK_CACHE_BYTES = Math.min(256L << 20,
      Runtime.getRuntime().maxMemory() / 8);

  private final ChunkCache hdf5Chunks = new ChunkCache(HDF5_CHUNK_CACHE_BYTES);
  private final ChunkCache zarrChunks = new ChunkCache(ZARR_CHUNK_CACHE_BYTES);
  private final int decoderHelpers = Math.max(0, Runtime.getRuntime().availableProcessors() - 1);
  private final ExecutorService decoders = decoderHelpers == 0 ? null
      : Executors.newFixedThreadPool(decoderHelpers, r -> {
        Thread t = new Thread(r, "zarr-chunk-decoder");
        t.setDaemon(true);
        return t;
      });

  private final ParallelTasks parallel = new ParallelTasks(decoders, decoderHelpers);

  /** The resources of stores opened outside any server; never closed. */
  public static StoreResources shared() {
    return Shared.INSTANCE;
  }

  public ChunkCache hdf5Chunks() {
    return hdf5Chunks;
  }

  public ChunkCache zarrChunks() {
    return zarrChunks;
  }

  /** The decoder threads as parallel tasks (the calling thread alone on a one-core machine). */
  public ParallelTasks parallel() {
    return parallel;
  }

  /** The helper threads of parallel chunk decoding; null on a one-core machine. */
  public ExecutorService decoders() {
    return decoders;
  }

  public int decoderHelpers() {
    return decoderHelpers;
  }

  @Override
  public void close() {
    if (this == Shared.INSTANCE) {
      return;
    }
    if (decoders != null) {
      decoders.shutdownNow();
      try {
        decoders.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
