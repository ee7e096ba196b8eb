package io.annflight.arrow;

import io.annflight.sampling.EpochOrder;
import io.annflight.collection.RowIndex;
import io.annflight.schema.RowSelection;
import java.util.Arrays;

/**
 * The rows of one batch grouped by store: for each store, its local rows sorted ascending and
 * the output position of each, so every matrix is read once per batch in file order and the
 * rows are scattered back into the order asked for.
 */
final class BatchRows {
  final int size;
  /** The collection row of each batch row (what {@code _row} sends). */
  final long[] rows;
  final int[] storeOfRow;
  final int[][] positions;
  final long[][] localRows;

  private BatchRows(int size, long[] rows, int[] storeOfRow, int[][] positions,
      long[][] localRows) {
    this.size = size;
    this.rows = rows;
    this.storeOfRow = storeOfRow;
    this.positions = positions;
    this.localRows = localRows;
  }

  /**
   * Positions {@code [first, first + n)} of the selection, which names positions of the epoch
   * {@code order}.
   */
  static BatchRows of(RowIndex index, EpochOrder order, RowSelection selection, long first,
      int n) {
    int nStores = index.nStores();
    long[] rows = new long[n];
    int[] store = new int[n];
    int[] local = new int[n];
    int[] counts = new int[nStores];
    // Runs of consecutive positions (a range; an index ticket's batches) in one loop each.
    for (int i = 0; i < n; ) {
      long start = selection.row(first + i);
      int run = 1;
      while (i + run < n && selection.row(first + i + run) == start + run) {
        run++;
      }
      order.rows(start, run, rows, i);
      i += run;
    }
    int s = 0;
    for (int i = 0; i < n; i++) {
      long row = rows[i];
      // Ranges walk stores in order; only jump (binary search) when leaving the current one.
      if (row < index.offset(s) || row >= index.offset(s) + index.count(s)) {
        s = index.storeOf(row);
      }
      store[i] = s;
      local[i] = index.localRow(s, row - index.offset(s));
      counts[s]++;
    }
    int[][] positions = new int[nStores][];
    long[][] locals = new long[nStores][];
    long[][] packed = new long[nStores][];
    for (int k = 0; k < nStores; k++) {
      packed[k] = new long[counts[k]];
    }
    int[] fill = new int[nStores];
    boolean sorted = true;
    int[] lastLocal = new int[nStores];
    Arrays.fill(lastLocal, -1);
    for (int i = 0; i < n; i++) {
      int k = store[i];
      sorted &= local[i] >= lastLocal[k];
      lastLocal[k] = local[i];
      packed[k][fill[k]++] = ((long) local[i] << 32) | i;
    }
    for (int k = 0; k < nStores; k++) {
      if (!sorted) {
        Arrays.sort(packed[k]);
      }
      positions[k] = new int[counts[k]];
      locals[k] = new long[counts[k]];
      for (int j = 0; j < counts[k]; j++) {
        positions[k][j] = (int) (packed[k][j] & 0xFFFFFFFFL);
        locals[k][j] = packed[k][j] >>> 32;
      }
    }
    return new BatchRows(n, rows, store, positions, locals);
  }

  /**
   * Whether a store's sorted local rows are one gap-free run without repeats (read as a
   * range). Each step is checked: first and last alone cannot tell {3, 3, 5} from 3..5.
   */
  static boolean isRun(long[] rows) {
    if (rows.length == 0) {
      return false;
    }
    for (int k = 1; k < rows.length; k++) {
      if (rows[k] != rows[k - 1] + 1) {
        return false;
      }
    }
    return true;
  }
}
