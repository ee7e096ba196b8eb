package io.annflight.schema;

import java.util.Arrays;

/** Which collection rows a ticket asks for: a half-open range or an explicit list. */
public sealed interface RowSelection permits RowSelection.Range, RowSelection.Indices {

  /** Number of rows delivered. */
  long count();

  /** Row {@code i} of the selection (collection row number). */
  long row(long i);

  /** Rows {@code [start, stop)}. */
  record Range(long start, long stop) implements RowSelection {
    public Range {
      if (start < 0 || stop < start) {
        throw new RequestException(
            "ticket range must satisfy 0 <= start <= stop, got start=" + start + " stop=" + stop);
      }
    }

    @Override
    public long count() {
      return stop - start;
    }

    @Override
    public long row(long i) {
      return start + i;
    }
  }

  /** Rows in the order asked for; duplicates allowed. */
  record Indices(long[] indices) implements RowSelection {
    public Indices {
      indices = indices.clone();
      for (int i = 0; i < indices.length; i++) {
        if (indices[i] < 0) {
          throw new RequestException(
              "ticket index " + indices[i] + " at position " + i + " is negative");
        }
      }
    }

    @Override
    public long count() {
      return indices.length;
    }

    @Override
    public long row(long i) {
      return indices[Math.toIntExact(i)];
    }

    @Override
    public long[] indices() {
      return indices.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Indices other && Arrays.equals(indices, other.indices);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(indices);
    }

    @Override
    public String toString() {
      return "Indices[" + indices.length + " rows]";
    }
  }
}
