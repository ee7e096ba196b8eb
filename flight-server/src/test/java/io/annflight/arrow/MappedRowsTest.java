package io.annflight.arrow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.Test;

/**
 * Rows of a contiguous dense .h5ad (f_same_var.h5ad: 25 x 24 float32, unchunked) that fill a
 * whole batch are sent from the file mapping itself, not from a copy; the values are still
 * anndata's, and a batch that is not one run of one store is still copied.
 */
class MappedRowsTest {

  @Test
  void aWholeBatchFromOneContiguousStoreIsTheMappingItself() throws Exception {
    JsonNode expected = Fixtures.expected("f_same_var.h5ad");
    double[][] want = Fixtures.expectedDense(expected.at("/matrices/X"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, "[\"f_same_var.h5ad\"]");
      MatrixReader x = plan.layers().get(0).readers().get(0).orElseThrow();
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          BatchStream s = BatchStream.open(plan, new RowSelection.Range(5, 25), a, 10)) {
        for (long first = 5; s.next(); first += 10) {
          long mapped = MemoryUtil.getByteBufferAddress(
              ((RowBlock.Dense) x.readRows(first, first + 10)).values().bytes());
          BaseFixedWidthVector child = child(s);
          assertThat(child.getDataBuffer().memoryAddress()).isEqualTo(mapped);
          assertRows(child, want, (int) first, 10);
        }
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void batchesOfShuffledRowsOrSeveralStoresAreCopies() throws Exception {
    double[][] want = Fixtures.expectedDense(
        Fixtures.expected("f_same_var.h5ad").at("/matrices/X"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, "[\"f_same_var.h5ad\", \"f_same_var.h5ad\"]");
      MatrixReader x = plan.layers().get(0).readers().get(0).orElseThrow();
      long mapped = MemoryUtil.getByteBufferAddress(
          ((RowBlock.Dense) x.readRows(0, 25)).values().bytes());
      // Rows 20..29 span both stores; rows 3, 2, 1, 0 are one run read backwards.
      for (RowSelection rows : List.of(new RowSelection.Range(20, 30),
          new RowSelection.Indices(new long[] {3, 2, 1, 0}))) {
        try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
            BatchStream s = BatchStream.open(plan, rows, a, 10)) {
          assertThat(s.next()).isTrue();
          BaseFixedWidthVector child = child(s);
          long address = child.getDataBuffer().memoryAddress();
          assertThat(address < mapped || address >= mapped + 25L * 24 * 4).isTrue();
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

  private static CollectionPlan plan(StoreCatalog catalog, String paths) {
    CollectionRequest r = RequestJson.parse(RequestJson.readObject(("{\"paths\": " + paths
        + ", \"obs_keys\": []}").getBytes(StandardCharsets.UTF_8), "test"), n -> null,
        Set.of());
    return new CollectionEngine(catalog).plan(r,
        r.paths().stream().map(p -> Fixtures.dir().resolve(p)).toList());
  }
}
