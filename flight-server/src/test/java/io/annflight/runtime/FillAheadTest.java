package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.arrow.BatchStream;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Filling ahead on a second thread sends exactly the batches of filling inline, and only as
 * many streams as there are slots fill ahead at once.
 */
class FillAheadTest {
  private StoreCatalog catalog;
  private RootAllocator allocator;
  private ExecutorService executor;
  private CollectionPlan plan;

  @BeforeEach
  void setUp() {
    String json = "{\"paths\": [\"dense.h5ad\", \"csr.zarr\", \"csc.h5ad\"], \"join\": \"outer\","
        + " \"obs_keys\": [\"cell_type\", \"tissue\"], \"obsm_keys\": [\"X_pca\"]}";
    CollectionRequest r = RequestJson.parse(RequestJson.readObject(
        json.getBytes(StandardCharsets.UTF_8), "test"), n -> null, Set.of());
    catalog = new StoreCatalog(AnnDataStores::open);
    allocator = new RootAllocator();
    executor = Executors.newCachedThreadPool();
    plan = new CollectionEngine(catalog).plan(r,
        r.paths().stream().map(p -> Fixtures.dir().resolve(p)).toList());
  }

  @AfterEach
  void tearDown() throws Exception {
    executor.shutdownNow();
    catalog.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  @Test
  void batchesFilledAheadEqualBatchesFilledInline() throws Exception {
    RowSelection all = new RowSelection.Range(0, plan.nObs());
    byte[] inline;
    try (BufferAllocator a = allocator.newChildAllocator("inline", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, all, a, 7)) {
      inline = ipc(s.root(), s, s::next);
    }
    FillAhead fillAhead = new FillAhead(executor, 1);
    try (BufferAllocator a = allocator.newChildAllocator("ahead", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, all, a, 7)) {
      PrefetchingBatches p = fillAhead.tryStart(s, FillGate.OPEN, () -> false);
      assertThat(p).isNotNull();
      try {
        assertThat(ipc(p.root(), s, p::next)).isEqualTo(inline);
      } finally {
        p.close();
      }
    }
    assertThat(fillAhead.available()).isEqualTo(1);
  }

  @Test
  void streamsBeyondTheSlotsFillInlineAndSlotsComeBack() {
    FillAhead fillAhead = new FillAhead(executor, 2);
    RowSelection all = new RowSelection.Range(0, plan.nObs());
    try (BufferAllocator a = allocator.newChildAllocator("streams", 0, Long.MAX_VALUE);
        BatchStream s1 = BatchStream.open(plan, all, a, 5);
        BatchStream s2 = BatchStream.open(plan, all, a, 5);
        BatchStream s3 = BatchStream.open(plan, all, a, 5)) {
      PrefetchingBatches p1 = fillAhead.tryStart(s1, FillGate.OPEN, () -> false);
      PrefetchingBatches p2 = fillAhead.tryStart(s2, FillGate.OPEN, () -> false);
      assertThat(p1).isNotNull();
      assertThat(p2).isNotNull();
      assertThat(fillAhead.tryStart(s3, FillGate.OPEN, () -> false)).isNull();
      assertThat(fillAhead.available()).isZero();
      // Closing mid-stream (a cancelled client) stops the filler and frees its batches.
      p1.close();
      assertThat(fillAhead.available()).isEqualTo(1);
      PrefetchingBatches p3 = fillAhead.tryStart(s3, FillGate.OPEN, () -> false);
      assertThat(p3).isNotNull();
      p2.close();
      p3.close();
    }
    assertThat(fillAhead.available()).isEqualTo(2);
  }

  @Test
  void aFillingThreadInterruptedAtShutdownFailsTheStreamInsteadOfHangingIt() throws Exception {
    RowSelection all = new RowSelection.Range(0, plan.nObs());
    // The filling thread is interrupted as it starts, as shutdownNow() does.
    java.util.concurrent.Executor interrupted = task -> {
      Thread t = new Thread(task);
      t.start();
      t.interrupt();
    };
    try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
        BatchStream s = BatchStream.open(plan, all, a, 5)) {
      PrefetchingBatches p = PrefetchingBatches.start(s, FillGate.OPEN, () -> false, interrupted,
          () -> {});
      try {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
          while (p.next()) {
            // drain whatever was handed over before the interrupt
          }
        }).isInstanceOf(RuntimeException.class); // the filler's stop, or its interrupted read
      } finally {
        p.close();
      }
    }
  }

  interface Next {
    boolean next() throws Exception;
  }

  /** Every batch the source moves into {@code root}, as Arrow IPC stream bytes. */
  private static byte[] ipc(VectorSchemaRoot root, BatchStream s, Next next) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArrowStreamWriter w = new ArrowStreamWriter(root, s.dictionaries(),
        Channels.newChannel(out))) {
      w.start();
      while (next.next()) {
        w.writeBatch();
      }
      w.end();
    }
    return out.toByteArray();
  }
}
