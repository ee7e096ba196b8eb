package io.annflight.arrow;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.MatrixColumnPlan;
import io.annflight.schema.ElementType;
import java.util.ArrayList;
import java.util.List;

/**
 * How many rows a batch holds: as many as fit a target size (8 MiB by default; 8-16 MiB
 * measured best for Flight on this kind of machine, larger batches halved throughput), judged
 * from the stores' real row sizes. A sparse row costs its non-zeros, estimated per store from
 * the values it stores per row (its {@code indptr}'s last entry over its rows), and the densest
 * store of the collection sizes every batch, so a batch of its rows fits too.
 */
public final class BatchSizing {
  public static final long TARGET_BYTES = 8L << 20;
  /** Rows a batch holds at least, when that many fit the server's bound on a batch. */
  static final int MIN_ROWS = 64;
  static final int MAX_ROWS = 65_536;
  /** Bytes a label, {@code _store_idx} or {@code _row} takes per row (at most). */
  private static final int SCALAR_BYTES = 8;
  /** A list row's offset. */
  private static final int OFFSET_BYTES = 4;
  /** A sparse entry's column index. */
  private static final int INDEX_BYTES = 4;

  private BatchSizing() {}

  /** Rows of about {@link #TARGET_BYTES} for {@code plan} (no bound on the batch). */
  public static int defaultRowsPerBatch(CollectionPlan plan) {
    return rowsFor(bytesPerRow(plan), TARGET_BYTES, Long.MAX_VALUE);
  }

  /**
   * Rows per batch so a batch holds about {@code targetBytes}: at least {@link #MIN_ROWS} when
   * they fit {@code maxBatchBytes}, else as many as fit it, and at least one.
   */
  public static int rowsFor(long bytesPerRow, long targetBytes, long maxBatchBytes) {
    long perRow = Math.max(1, bytesPerRow);
    long rows = Math.max(MIN_ROWS, targetBytes / perRow);
    rows = Math.min(rows, Math.max(1, maxBatchBytes / perRow));
    return (int) Math.max(1, Math.min(MAX_ROWS, rows));
  }

  /**
   * About how many bytes a row of {@code plan}'s output takes: for each matrix column, the
   * largest of its stores' row sizes (dense: the width; sparse: the store's non-zeros per row
   * that land in the output); for every other column, {@value #SCALAR_BYTES}.
   */
  public static long bytesPerRow(CollectionPlan plan) {
    List<MatrixColumnPlan> matrices = new ArrayList<>(plan.layers());
    matrices.addAll(plan.obsm());
    long bytes = (long) SCALAR_BYTES * (plan.outputSchema().columns().size() - matrices.size());
    for (MatrixColumnPlan m : matrices) {
      bytes += matrixRowBytes(m);
    }
    return bytes;
  }

  private static long matrixRowBytes(MatrixColumnPlan m) {
    ElementType type = m.outType();
    long valueBytes = type == ElementType.BOOL ? 1 : type.byteWidth();
    boolean sparse = m.column().sparse();
    long largest = 0;
    for (int s = 0; s < m.readers().size(); s++) {
      if (m.readers().get(s).isEmpty()) {
        continue;
      }
      long row = sparse
          ? (long) Math.ceil(m.entriesPerRow(s)) * (INDEX_BYTES + valueBytes)
          : m.rowWidths()[s] * valueBytes;
      largest = Math.max(largest, row);
    }
    return largest + OFFSET_BYTES;
  }
}
