package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.arrow.BatchSizing;
import io.annflight.arrow.BatchStream;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.store.ParallelTasks;
import io.annflight.synthetic.H5adWriter;
import io.annflight.synthetic.SyntheticAnnData;
import io.annflight.synthetic.ZarrWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches are sized from the stores' real rows: a collection of a sparse store and a store 100
 * times denser gets batches near the target whichever store they come from, never above it
 * by much; a request leaving rows_per_batch unset gets as many rows as fit its bytes_per_batch;
 * a rows_per_batch that cannot fit is refused, naming the size.
 */
class BatchSizingTest {
  private static final int GENES = 30_000;
  private static final long MAX_BATCH = 256L << 20;

  @TempDir
  static Path dir;
  private static Path sparse;
  private static Path dense;
  private static Path wideDense;

  private RootAllocator allocator;
  private StoreCatalog catalog;
  private CollectionEngine engine;
  private MemoryBudget budget;

  @BeforeEach
  void open() {
    if (sparse == null) {
      sparse = dir.resolve("sparse.h5ad");
      dense = dir.resolve("dense.zarr");
      wideDense = dir.resolve("wide_dense.h5ad");
      H5adWriter.write(new SyntheticAnnData(600, GENES, 30, true), sparse);
      ZarrWriter.write(new SyntheticAnnData(600, GENES, 3_000, true), dense);
      H5adWriter.write(new SyntheticAnnData(70, 62_710, 2_000, false), wideDense);
    }
    allocator = new RootAllocator();
    catalog = new StoreCatalog(AnnDataStores::open);
    engine = new CollectionEngine(catalog, 1 << 24, ParallelTasks.SERIAL);
    // A hard limit four times the largest batch: batches of up to 256 MiB may be filled.
    budget = budget(4 * MAX_BATCH);
  }

  /** A budget whose streams hold nothing, with hard limit {@code limit}. */
  private static MemoryBudget budget(long limit) {
    return MemoryBudget.of(() -> 0, limit, new StreamEvents() {
        @Override
        public void streamEnded(String collection, long rows, long bytes, double seconds) {}
  
        @Override
        public void budgetWaited(double seconds) {}
      });
  }

  @AfterEach
  void close() {
    catalog.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  private CollectionPlan plan(String json, Path... stores) {
    CollectionRequest r = request(json);
    return engine.plan(r, List.of(stores));
  }

  private static CollectionRequest request(String json) {
    return RequestJson.parse(RequestJson.readObject(json.getBytes(StandardCharsets.UTF_8),
        "test"), n -> null, Set.of());
  }

  /** The largest batch a stream of the plan's rows fills, in bytes. */
  private long largestBatch(CollectionPlan plan, int rowsPerBatch) {
    long largest = 0;
    try (BatchStream s = BatchStream.open(plan, new RowSelection.Range(0, plan.nObs()),
        allocator, rowsPerBatch)) {
      long before = 0;
      while (s.next()) {
        largest = Math.max(largest, s.bytesSent() - before);
        before = s.bytesSent();
      }
    }
    return largest;
  }

  @Test
  void sparseStoresOfVeryDifferentDensitiesGetBatchesThatFit() {
    String json = "{\"paths\": [\"a\", \"b\"], \"matrix_format\": \"csr\","
        + " \"obs_keys\": [\"cell_type\"], \"bytes_per_batch\": 4194304}";
    CollectionPlan plan = plan(json, sparse, dense);
    int rows = budget.rowsPerBatch(BatchSizing.bytesPerRow(plan), null, 4L << 20, plan.nObs());
    // The denser store's rows (3,000 entries of 8 bytes) decide: about 170 of them in 4 MiB.
    assertThat(rows).isBetween(150, 180);
    long largest = largestBatch(plan, rows);
    assertThat(largest).isBetween(3L << 20, 5L << 20);
    // Sized as dense rows, 30,000 x 4 bytes, it would be 35 rows (the old estimate).
    assertThat(rows).isGreaterThan(4 * (4 << 20) / (GENES * 4));
  }

  @Test
  void theDefaultTargetAndADenseOutputOfSparseStoresAreSizedByWidth() {
    CollectionPlan csr = plan("{\"paths\": [\"a\"], \"matrix_format\": \"csr\"}", sparse);
    int rows = budget.rowsPerBatch(BatchSizing.bytesPerRow(csr), null, null, csr.nObs());
    // 30 entries a row: 8 MiB holds far more rows than the store has; a stream's last batch
    // is its rows.
    assertThat(rows).isGreaterThan(600);
    CollectionPlan dense = plan("{\"paths\": [\"a\"]}", sparse);
    int denseRows = budget.rowsPerBatch(BatchSizing.bytesPerRow(dense), null, null, 600);
    assertThat(denseRows).isBetween(64, 80); // 8 MiB of 120 KB rows
  }

  @Test
  void aProjectionIsSizedByTheEntriesItKeeps() {
    StringBuilder genes = new StringBuilder();
    for (int j = 0; j < GENES; j += 15) {
      genes.append(genes.length() == 0 ? "" : ", ").append("\"g").append(j).append('"');
    }
    CollectionPlan plan = plan("{\"paths\": [\"b\"], \"matrix_format\": \"csr\","
        + " \"var_names\": [" + genes + "]}", dense);
    // 2,000 of 30,000 genes keep about 200 of a row's 3,000 entries.
    long perRow = BatchSizing.bytesPerRow(plan);
    assertThat(perRow).isBetween(150L * 8, 250L * 8 + 64);
    int rows = budget.rowsPerBatch(perRow, null, 1L << 20, plan.nObs());
    assertThat(largestBatch(plan, rows)).isLessThan(2L << 20);
  }

  @Test
  void aDenseRequestThatCannotFitIsRefusedAsBefore() {
    CollectionPlan plan = plan("{\"paths\": [\"w\"], \"rows_per_batch\": 4096}", wideDense);
    // 4,096 rows of 62,710 float32: about 980 MiB.
    assertThatThrownBy(() -> budget.rowsPerBatch(BatchSizing.bytesPerRow(plan), 4096, null,
        1_000_000)).isInstanceOf(RequestException.class)
        .hasMessageContaining("\"rows_per_batch\" of 4096 makes batches of about 979 MiB")
        .hasMessageContaining("this server fills at most 256 MiB per batch");
    // Unset, the same rows get as many per batch as fit: here the default's 8 MiB.
    int rows = budget.rowsPerBatch(BatchSizing.bytesPerRow(plan), null, null, 1_000_000);
    assertThat(rows).isEqualTo(64); // at least 64 rows when they fit: 16 MiB
    assertThat(budget.rowsPerBatch(BatchSizing.bytesPerRow(plan), null, 64L << 20, 1_000_000))
        .isEqualTo(267);
  }

  @Test
  void oneRowLargerThanABatchMayBeIsRefused() {
    MemoryBudget small = budget(1L << 20);
    CollectionPlan plan = plan("{\"paths\": [\"w\"]}", wideDense);
    // A 256 KiB batch bound, and rows of 245 KiB: one row fits, 64 do not.
    assertThat(small.rowsPerBatch(BatchSizing.bytesPerRow(plan), null, null, 70)).isEqualTo(1);
    MemoryBudget tiny = budget(512L << 10);
    assertThatThrownBy(() -> tiny.rowsPerBatch(BatchSizing.bytesPerRow(plan), null, null, 70))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("a batch of 1 row makes batches of about 244 KiB")
        .hasMessageContaining("at most 128 KiB per batch");
  }
}
