package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.arrow.BatchStream;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.Test;

/** Eight threads streaming one shared plan get byte-identical batches. */
class EngineConcurrencyTest {

  @Test
  void eightThreadsReadIdenticalResults() throws Exception {
    String json = "{\"paths\": [\"dense.h5ad\", \"csr.zarr\", \"csc.h5ad\", \"dense.zarr\","
        + " \"csr.h5ad\"], \"join\": \"outer\", \"layers_keys\": [\"X\"],"
        + " \"obs_keys\": [\"cell_type\", \"tissue\", \"donor\"], \"obsm_keys\": [],"
        + " \"encode_labels\": [\"cell_type\"], \"unknown_label\": \"unknown\"}";
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionRequest r = RequestJson.parse(RequestJson.readObject(
          json.getBytes(java.nio.charset.StandardCharsets.UTF_8), "test"), n -> null, Set.of());
      CollectionPlan plan = new CollectionEngine(catalog).plan(r,
          r.paths().stream().map(p -> Fixtures.dir().resolve(p)).toList());
      long[] indices = new Random(7).longs(2_000, 0, plan.nObs()).toArray();
      byte[] reference = stream(plan, indices, allocator);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<byte[]>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          results.add(pool.submit(() -> stream(plan, indices, allocator)));
        }
        for (Future<byte[]> f : results) {
          assertThat(f.get()).isEqualTo(reference);
        }
      } finally {
        pool.shutdown();
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  /** The whole stream as Arrow IPC bytes: equal bytes mean equal batches. */
  private static byte[] stream(CollectionPlan plan, long[] indices, BufferAllocator parent)
      throws Exception {
    try (BufferAllocator a = parent.newChildAllocator("stream", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, new RowSelection.Indices(indices), a, 97)) {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      try (ArrowStreamWriter w = new ArrowStreamWriter(s.root(), s.dictionaries(), out)) {
        w.start();
        while (s.next()) {
          for (FieldVector v : s.root().getFieldVectors()) {
            assertThat(v.getValueCount()).isEqualTo(s.root().getRowCount());
          }
          w.writeBatch();
        }
        w.end();
      }
      return out.toByteArray();
    }
  }
}
