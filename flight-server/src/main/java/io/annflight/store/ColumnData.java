package io.annflight.store;

import io.annflight.schema.ElementType;
import java.util.BitSet;

/**
 * The values of one data frame column, fully read. Missing values are explicit: null strings,
 * NaN floats, or a set bit in {@code missing} for integers and booleans (nullable encodings).
 */
public sealed interface ColumnData
    permits ColumnData.Strings,
        ColumnData.Integers,
        ColumnData.Floats,
        ColumnData.Booleans,
        ColumnData.Categorical {

  int length();

  boolean isMissing(int row);

  /** Heap the column takes (an estimate for strings), what caches of columns account. */
  long heapBytes();

  private static long bitSetBytes(BitSet b) {
    return 32 + b.size() / 8;
  }

  /** String values; null is missing (nullable-string-array mask, or None). */
  record Strings(String[] values) implements ColumnData {
    @Override
    public int length() {
      return values.length;
    }

    @Override
    public boolean isMissing(int row) {
      return values[row] == null;
    }

    @Override
    public long heapBytes() {
      long bytes = 16 + 4L * values.length;
      for (String v : values) {
        // A String object with its byte array (Latin-1 compact strings: a byte a character).
        bytes += v == null ? 0 : 40 + v.length();
      }
      return bytes;
    }
  }

  /** Integer values of a stored integer type; {@code missing} is set for masked entries. */
  record Integers(ElementType type, long[] values, BitSet missing) implements ColumnData {
    @Override
    public long heapBytes() {
      return 16 + 8L * values.length + bitSetBytes(missing);
    }

    @Override
    public int length() {
      return values.length;
    }

    @Override
    public boolean isMissing(int row) {
      return missing.get(row);
    }
  }

  /** Floating values; NaN is missing (as pandas treats it). */
  record Floats(ElementType type, double[] values) implements ColumnData {
    @Override
    public long heapBytes() {
      return 16 + 8L * values.length;
    }

    @Override
    public int length() {
      return values.length;
    }

    @Override
    public boolean isMissing(int row) {
      return Double.isNaN(values[row]);
    }
  }

  /** Boolean values; {@code missing} is set for masked entries (nullable-boolean). */
  record Booleans(boolean[] values, BitSet missing) implements ColumnData {
    @Override
    public long heapBytes() {
      return 16 + values.length + bitSetBytes(missing);
    }

    @Override
    public int length() {
      return values.length;
    }

    @Override
    public boolean isMissing(int row) {
      return missing.get(row);
    }
  }

  /**
   * A pandas categorical: row {@code r}'s code {@link #code(int)} indexes {@code categories},
   * -1 is missing. Codes are kept as compactly as the number of categories allows. Categories
   * are themselves a non-categorical column (strings, numbers or booleans).
   */
  record Categorical(CategoryCodes rowCodes, ColumnData categories, boolean ordered)
      implements ColumnData {
    public Categorical {
      if (categories instanceof Categorical) {
        throw new IllegalArgumentException("categories cannot be categorical");
      }
    }

    /** Codes given as ints (each -1 or a category's position). */
    public Categorical(int[] codes, ColumnData categories, boolean ordered) {
      this(CategoryCodes.of(codes, categories.length()), categories, ordered);
    }

    /** Row {@code row}'s category position, -1 when missing. */
    public int code(int row) {
      return rowCodes.get(row);
    }

    /** Every row's code as ints (a copy: one int a row). */
    public int[] codes() {
      return rowCodes.toArray();
    }

    @Override
    public int length() {
      return rowCodes.length();
    }

    @Override
    public boolean isMissing(int row) {
      return rowCodes.get(row) < 0;
    }

    @Override
    public long heapBytes() {
      return 32 + rowCodes.bytes() + categories.heapBytes();
    }
  }
}
