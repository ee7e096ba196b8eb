package io.annflight.store.anndata;

import java.nio.file.Path;

/** Argument checks shared by the matrix readers: a bad request is the caller's bug. */
final class Rows {
  private Rows() {}

  static void checkRange(Path file, String element, long start, long stop, long nRows) {
    if (start < 0 || stop < start || stop > nRows) {
      throw new IndexOutOfBoundsException(
          file + " at '" + element + "': rows [" + start + ", " + stop + ") are not within [0, "
              + nRows + ")");
    }
  }

  static void checkSorted(Path file, String element, long[] rows, long nRows) {
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= nRows) {
        throw new IndexOutOfBoundsException(
            file + " at '" + element + "': row " + rows[i] + " (position " + i
                + ") is not within [0, " + nRows + ")");
      }
      if (i > 0 && rows[i] < rows[i - 1]) {
        throw new IllegalArgumentException(
            file + " at '" + element + "': rows are not sorted ascending at position " + i);
      }
    }
  }

  /** The distinct values of a sorted array. */
  static long[] distinct(long[] sorted) {
    int n = 0;
    long[] out = new long[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || sorted[i] != sorted[i - 1]) {
        out[n++] = sorted[i];
      }
    }
    return n == out.length ? out : java.util.Arrays.copyOf(out, n);
  }
}
