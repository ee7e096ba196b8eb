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
  }

  /** Integer values of a stored integer type; {@code missing} is set for masked entries. */
  record Integers(ElementType type, long[] values, BitSet missing) implements ColumnData {
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
    public int length() {
      return values.length;
    }

    @Override
    public boolean isMissing(int row) {
      return missing.get(row);
    }
  }

  /**
   * A pandas categorical: {@code codes[row]} indexes {@code categories}, -1 is missing.
   * Categories are themselves a non-categorical column (strings, numbers or booleans).
   */
  record Categorical(int[] codes, ColumnData categories, boolean ordered) implements ColumnData {
    public Categorical {
      if (categories instanceof Categorical) {
        throw new IllegalArgumentException("categories cannot be categorical");
      }
    }

    @Override
    public int length() {
      return codes.length;
    }

    @Override
    public boolean isMissing(int row) {
      return codes[row] < 0;
    }
  }
}
