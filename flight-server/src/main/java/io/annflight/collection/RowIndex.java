package io.annflight.collection;

import java.util.Arrays;

/**
 * Maps collection rows to (store, row in store): stores are concatenated in order, each
 * contributing its selected rows (all rows, or those passing {@code obs_filter}).
 */
public final class RowIndex {
  private final long[] offsets;
  private final int[][] selected;

  /**
   * @param selected per store, the sorted local rows kept, or null for all rows
   * @param nObs per store, its number of observations
   */
  public RowIndex(int[][] selected, long[] nObs) {
    this.selected = selected.clone();
    this.offsets = new long[nObs.length + 1];
    for (int s = 0; s < nObs.length; s++) {
      long count = selected[s] == null ? nObs[s] : selected[s].length;
      offsets[s + 1] = offsets[s] + count;
    }
  }

  public int nStores() {
    return offsets.length - 1;
  }

  public long nObs() {
    return offsets[offsets.length - 1];
  }

  /** First collection row of store s. */
  public long offset(int store) {
    return offsets[store];
  }

  /** Rows store s contributes. */
  public long count(int store) {
    return offsets[store + 1] - offsets[store];
  }

  /** The store holding collection row {@code row} (0 <= row < nObs). */
  public int storeOf(long row) {
    int i = Arrays.binarySearch(offsets, row);
    if (i >= 0) {
      // Several stores may start at the same offset when some are empty: take the last.
      while (i + 1 < offsets.length - 1 && offsets[i + 1] == row) {
        i++;
      }
      return i;
    }
    return -i - 2;
  }

  /** Heap the selected rows take (4 bytes a row kept by obs_filter; nothing without one). */
  public long selectionBytes() {
    long bytes = 0;
    for (int[] sel : selected) {
      bytes += sel == null ? 0 : 16 + 4L * sel.length;
    }
    return bytes;
  }

  /** The local row of the store for its {@code k}-th contributed row. */
  public int localRow(int store, long k) {
    int[] sel = selected[store];
    return sel == null ? Math.toIntExact(k) : sel[Math.toIntExact(k)];
  }
}
