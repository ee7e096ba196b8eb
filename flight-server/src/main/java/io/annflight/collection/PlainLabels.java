package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * One store's labels of a key that is not encoded, converted once to the key's wire type so
 * batches copy primitives (and pre-encoded UTF-8) without creating objects per row. A
 * categorical keeps its codes and converts only its categories.
 */
public final class PlainLabels {
  private final int[] codes;
  private final BitSet missing;
  private final long[] longs;
  private final double[] doubles;
  private final boolean[] bools;
  private final byte[][] utf8;
  private final int valueCount;

  private PlainLabels(int valueCount, int[] codes, BitSet missing, long[] longs, double[] doubles,
      boolean[] bools, byte[][] utf8) {
    this.codes = codes;
    this.missing = missing;
    this.longs = longs;
    this.doubles = doubles;
    this.bools = bools;
    this.utf8 = utf8;
    this.valueCount = valueCount;
  }

  static PlainLabels of(ColumnData column, LabelType type) {
    int[] codes = null;
    ColumnData values = column;
    if (column instanceof ColumnData.Categorical cat) {
      codes = cat.codes();
      values = cat.categories();
    }
    int n = values.length();
    BitSet missing = new BitSet(n);
    long[] longs = type == LabelType.INT64 ? new long[n] : null;
    double[] doubles = type == LabelType.FLOAT64 ? new double[n] : null;
    boolean[] bools = type == LabelType.BOOL ? new boolean[n] : null;
    byte[][] utf8 = type == LabelType.UTF8 ? new byte[n][] : null;
    for (int i = 0; i < n; i++) {
      Object v = LabelValues.labelAt(values, i, type);
      if (v == null) {
        missing.set(i);
        continue;
      }
      switch (type) {
        case INT64 -> longs[i] = (Long) v;
        case FLOAT64 -> doubles[i] = (Double) v;
        case BOOL -> bools[i] = (Boolean) v;
        case UTF8 -> utf8[i] = ((String) v).getBytes(StandardCharsets.UTF_8);
      }
    }
    return new PlainLabels(n, codes, missing, longs, doubles, bools, utf8);
  }

  /** Index into the value arrays for a row, or -1 when the row's label is missing. */
  public int slot(int row) {
    int i = codes == null ? row : codes[row];
    return i < 0 || i >= valueCount || missing.get(i) ? -1 : i;
  }

  public long longAt(int slot) {
    return longs[slot];
  }

  public double doubleAt(int slot) {
    return doubles[slot];
  }

  public boolean boolAt(int slot) {
    return bools[slot];
  }

  public byte[] utf8At(int slot) {
    return utf8[slot];
  }
}
