package io.annflight.store.zarr;

/** The rows one read asks for: a range {@code [start, stop)} or a sorted list (duplicates allowed). */
final class RowSelection {

  private final long start;
  private final long[] rows;
  private final int size;

  private RowSelection(long start, long[] rows, int size) {
    this.start = start;
    this.rows = rows;
    this.size = size;
  }

  static RowSelection range(String element, long nRows, long start, long stop) {
    if (start < 0 || stop > nRows || start > stop) {
      throw new IndexOutOfBoundsException(
          element + ": rows [" + start + ", " + stop + ") are outside [0, " + nRows + ")");
    }
    return new RowSelection(start, null, Math.toIntExact(stop - start));
  }

  static RowSelection sorted(String element, long nRows, long[] rows) {
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= nRows) {
        throw new IndexOutOfBoundsException(
            element + ": row " + rows[i] + " is outside [0, " + nRows + ")");
      }
      if (i > 0 && rows[i] < rows[i - 1]) {
        throw new IllegalArgumentException(
            element + ": rows must be sorted ascending, found " + rows[i - 1] + " before " + rows[i]);
      }
    }
    return new RowSelection(0, rows.clone(), rows.length);
  }

  boolean isRange() {
    return rows == null;
  }

  int size() {
    return size;
  }

  long row(int i) {
    return rows == null ? start + i : rows[i];
  }
}
