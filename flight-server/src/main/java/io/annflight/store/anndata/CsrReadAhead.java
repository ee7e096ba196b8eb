package io.annflight.store.anndata;

import java.util.Arrays;

/**
 * Read-ahead hints for rows of a CSR matrix in a bucket: the rows' pointers (a small read of
 * indptr, cached like any) give the ranges of their entries, whose indices and data are then
 * hinted to the arrays, which fetch them in the background. Nothing is decoded.
 */
final class CsrReadAhead {
  /**
   * Entries of rows closer than this are hinted as one range: the caches fetch whole blocks,
   * so splitting would only cost calls.
   */
  private static final long MERGE_GAP = 4096;

  private CsrReadAhead() {}

  /** Whether hints do anything: the indices or the data lie in a bucket. */
  static boolean applies(SparseArrays g) {
    return g.indices.readsAhead() || g.data.readsAhead();
  }

  /** Hints the entries of the given rows (ascending; rows out of range are ignored). */
  static void prefetch(SparseArrays g, long[] sortedRows) {
    if (sortedRows.length == 0 || !applies(g)) {
      return;
    }
    // indptr positions r and r + 1 of every distinct row, ascending.
    long[] pos = new long[sortedRows.length * 2];
    int n = 0;
    for (long r : sortedRows) {
      if (r < 0 || r >= g.nRows) {
        continue;
      }
      if (n == 0 || pos[n - 1] < r) {
        pos[n++] = r;
      }
      if (pos[n - 1] < r + 1) {
        pos[n++] = r + 1;
      }
    }
    if (n == 0) {
      return;
    }
    long[] positions = Arrays.copyOf(pos, n);
    long[] p = g.pointersAt(positions);
    long lo = -1;
    long hi = -1;
    for (int k = 0; k + 1 < n; k++) {
      if (positions[k + 1] != positions[k] + 1 || p[k + 1] == p[k]) {
        continue; // not a row's start, or an empty row
      }
      if (lo >= 0 && p[k] - hi <= MERGE_GAP) {
        hi = Math.max(hi, p[k + 1]);
      } else {
        hint(g, lo, hi);
        lo = p[k];
        hi = p[k + 1];
      }
    }
    hint(g, lo, hi);
  }

  private static void hint(SparseArrays g, long lo, long hi) {
    if (lo >= 0 && hi > lo) {
      g.indices.prefetchRange(lo, hi);
      g.data.prefetchRange(lo, hi);
    }
  }
}
