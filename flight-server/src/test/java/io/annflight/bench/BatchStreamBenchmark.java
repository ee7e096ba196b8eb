package io.annflight.bench;

import io.annflight.arrow.BatchSizing;
import io.annflight.arrow.BatchStream;
import io.annflight.arrow.compression.BatchCodecs;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.Compression;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * Server-side batch assembly alone (no Flight): fills every batch of a collection, in order and
 * as a block-shuffled epoch (the defaults), as shuffled 256-row index tickets, and prints
 * rows/s. Separates engine cost from transport
 * cost when profiling throughput_bench.py results. With {@code --compression lz4|zstd} every
 * batch is also unloaded through the codec, as DoGet does before sending. {@code --request JSON}
 * replaces the default request's keys (obs_keys cell_type, obsm_keys X_pca), e.g.
 * {@code '{"obs_keys": [], "obsm_keys": [], "matrix_format": "csr", "var_names": [...]}'}; with
 * {@code --only sequential} the other orders are skipped. Each figure is printed with the
 * filling thread's CPU time per row, which a loaded machine disturbs less than wall time.
 * {@code --cold-projections} plans each sequential pass on a new engine, so a projection's
 * cache is empty every time (its first epoch, repeated).
 *
 * <pre>java -cp ... io.annflight.bench.BatchStreamBenchmark [--seconds S] [--compression C]
 *     [--request JSON] [--only sequential] PATH...</pre>
 */
public final class BatchStreamBenchmark {
  private static Compression compression = Compression.NONE;

  public static void main(String[] args) throws Exception {
    double seconds = 5;
    List<Path> paths = new ArrayList<>();
    String keys = "{\"obs_keys\": [\"cell_type\"], \"obsm_keys\": [\"X_pca\"]}";
    boolean onlySequential = false;
    boolean coldProjections = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--seconds")) {
        seconds = Double.parseDouble(args[++i]);
      } else if (args[i].equals("--compression")) {
        compression = Compression.fromJson(args[++i]);
      } else if (args[i].equals("--request")) {
        keys = args[++i];
      } else if (args[i].equals("--cold-projections")) {
        coldProjections = true;
      } else if (args[i].equals("--only")) {
        onlySequential = args[++i].equals("sequential");
      } else {
        paths.add(Path.of(args[i]));
      }
    }
    com.fasterxml.jackson.databind.node.ObjectNode request = RequestJson.readObject(
        keys.getBytes(StandardCharsets.UTF_8), "--request");
    request.putArray("paths").add("x");
    CollectionRequest r = RequestJson.parse(request, n -> null, Set.of());
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      // As a server: missing projected groups are read on the helper threads too.
      java.util.function.Supplier<CollectionEngine> engine = () -> new CollectionEngine(catalog,
          CollectionEngine.DEFAULT_PROJECTION_CACHE_BYTES,
          io.annflight.store.StoreResources.shared().parallel());
      CollectionPlan plan = engine.get().plan(r, paths);
      int rowsPerBatch = BatchSizing.defaultRowsPerBatch(plan);
      boolean cold = coldProjections;
      for (int pass = 0; pass < 3; pass++) {
        report("sequential", seconds, () -> drain(
            cold ? engine.get().plan(r, paths) : plan,
            new RowSelection.Range(0, plan.nObs()), allocator, rowsPerBatch));
      }
      if (onlySequential) {
        return;
      }
      io.annflight.sampling.EpochOrder blocks = new io.annflight.sampling.EpochOrders().of(
          plan, new io.annflight.schema.EpochSpec(new io.annflight.schema.Sampler.BlockShuffle(
              1, 0, io.annflight.schema.Sampler.BlockShuffle.DEFAULT_BLOCK_SIZE,
              io.annflight.schema.Sampler.BlockShuffle.DEFAULT_POOL_BLOCKS), null, null));
      for (int pass = 0; pass < 2; pass++) {
        report("block_shuffle", seconds, () -> drain(plan, blocks,
            new RowSelection.Range(0, blocks.length()), allocator, rowsPerBatch));
      }
      Random random = new Random(1);
      for (int pass = 0; pass < 2; pass++) {
        report("shuffled 256", seconds, () -> {
          long[] idx = random.longs(256, 0, plan.nObs()).toArray();
          return drain(plan, new RowSelection.Indices(idx), allocator, 256);
        });
      }
    }
  }

  interface Work {
    long run() throws Exception;
  }

  private static void report(String what, double seconds, Work w) throws Exception {
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    long rows = 0;
    long cpu0 = threads.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      rows += w.run();
    }
    double dt = (System.nanoTime() - t0) / 1e9;
    double cpuNanosPerRow = (threads.getCurrentThreadCpuTime() - cpu0) / (double) rows;
    System.out.printf("RESULT %-14s %,12.0f rows/s %,10.0f ns CPU/row%n", what, rows / dt,
        cpuNanosPerRow);
  }

  private static long drain(CollectionPlan plan, RowSelection rows, BufferAllocator parent,
      int rowsPerBatch) {
    return drain(plan, io.annflight.sampling.EpochOrder.identity(plan.nObs()), rows, parent,
        rowsPerBatch);
  }

  private static long drain(CollectionPlan plan, io.annflight.sampling.EpochOrder order,
      RowSelection rows, BufferAllocator parent, int rowsPerBatch) {
    try (BufferAllocator a = parent.newChildAllocator("bench", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, order, rows, a, rowsPerBatch)) {
      long checksum = 0;
      CompressionCodec codec = BatchCodecs.forCompression(compression);
      VectorUnloader unloader = new VectorUnloader(s.root(), true, codec, true);
      while (s.next()) {
        for (FieldVector v : s.root().getFieldVectors()) {
          checksum += v.getValueCount();
        }
        if (compression != Compression.NONE) {
          try (ArrowRecordBatch b = unloader.getRecordBatch()) {
            checksum += b.computeBodyLength();
          }
        }
      }
      return s.rowsSent() + (checksum < 0 ? 1 : 0);
    }
  }
}
