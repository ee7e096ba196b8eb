package io.annflight.arrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MalformedStoreException;
import io.annflight.testing.Fixtures;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows of a contiguous dense .h5ad (f_same_var.h5ad: 25 x 24 float32, unchunked) that fill a
 * whole batch are read straight into the batch's buffer with positional reads; the values are
 * anndata's, batches that are not one run of one store are still right, and a file truncated
 * under an open store fails the batch with an error naming it (nothing maps the file, so
 * nothing can fault).
 */
class DirectRowsTest {

  @Test
  void aWholeBatchFromOneContiguousStoreHoldsAnndatasValues() throws Exception {
    double[][] want = Fixtures.expectedDense(
        Fixtures.expected("f_same_var.h5ad").at("/matrices/X"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, Fixtures.dir(), "[\"f_same_var.h5ad\"]");
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          BatchStream s = BatchStream.open(plan, new RowSelection.Range(5, 25), a, 10)) {
        for (int first = 5; s.next(); first += 10) {
          assertRows(child(s), want, first, 10);
        }
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void batchesOfShuffledRowsOrSeveralStoresHoldTheRightRows() throws Exception {
    double[][] want = Fixtures.expectedDense(
        Fixtures.expected("f_same_var.h5ad").at("/matrices/X"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, Fixtures.dir(),
          "[\"f_same_var.h5ad\", \"f_same_var.h5ad\"]");
      // Rows 20..29 span both stores; rows 3, 2, 1, 0 are one run read backwards.
      // Rows 5, 5, 0, 24, 5, 30: duplicates, both stores, each row read to its own place.
      for (RowSelection rows : List.of(new RowSelection.Range(20, 30),
          new RowSelection.Indices(new long[] {3, 2, 1, 0}),
          new RowSelection.Indices(new long[] {5, 5, 0, 24, 5, 30}),
          // A repeat with the span of a run (3, 3, 5 spans 3..5): not a range read.
          new RowSelection.Indices(new long[] {3, 3, 5}),
          new RowSelection.Indices(new long[] {5, 3, 3}))) {
        try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
            BatchStream s = BatchStream.open(plan, rows, a, 10)) {
          assertThat(s.next()).isTrue();
          BaseFixedWidthVector child = child(s);
          for (int i = 0; i < s.root().getRowCount(); i++) {
            int row = (int) (rows.row(i) % 25);
            for (int j = 0; j < 24; j++) {
              assertThat((double) child.getDataBuffer().getFloat((i * 24L + j) * 4))
                  .isEqualTo(want[row][j]);
            }
          }
        }
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void aFileTruncatedUnderAnOpenStoreFailsTheBatchNamingIt(@TempDir Path dir)
      throws Exception {
    Path copy = dir.resolve("cut.h5ad");
    Files.copy(Fixtures.dir().resolve("f_same_var.h5ad"), copy);
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, dir, "[\"cut.h5ad\"]");
      long size = Files.size(copy);
      try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
        ch.truncate(Math.min(size / 2, 2048)); // the plan has read the metadata it needs
      }
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          BatchStream s = BatchStream.open(plan, new RowSelection.Range(0, 25), a, 25)) {
        assertThatThrownBy(s::next)
            .isInstanceOf(MalformedStoreException.class)
            .hasMessageContaining("cut.h5ad")
            .hasMessageContaining("truncated");
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  private static BaseFixedWidthVector child(BatchStream s) {
    return (BaseFixedWidthVector) ((FixedSizeListVector) s.root().getVector("X"))
        .getDataVector();
  }

  private static void assertRows(BaseFixedWidthVector child, double[][] want, int first,
      int n) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 24; j++) {
        assertThat((double) child.getDataBuffer().getFloat((i * 24L + j) * 4))
            .as("row %d column %d", first + i, j).isEqualTo(want[first + i][j]);
      }
    }
  }

  private static CollectionPlan plan(StoreCatalog catalog, Path dir, String paths) {
    CollectionRequest r = RequestJson.parse(RequestJson.readObject(("{\"paths\": " + paths
        + ", \"obs_keys\": []}").getBytes(StandardCharsets.UTF_8), "test"), n -> null,
        Set.of());
    return new CollectionEngine(catalog).plan(r,
        r.paths().stream().map(p -> dir.resolve(p)).toList());
  }
}
