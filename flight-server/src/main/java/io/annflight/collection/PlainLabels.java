package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * How one store's labels of a key that is not encoded reach the key's wire type. A categorical's
 * categories are converted once (pre-encoded UTF-8 included), so batches copy primitives and
 * bytes without creating objects per row; its rows' codes come from the column itself, read
 * from the obs cache when a batch is filled. Nothing is kept per row. A plain column's values
 * are converted as they are read.
 */
public final class PlainLabels {
  private final LabelType type;
  /** Whether the store's column is categorical (the arrays below hold its categories). */
  private final boolean categorical;
  private final BitSet missing;
  private final long[] longs;
  private final double[] doubles;
  private final boolean[] bools;
  private final byte[][] utf8;
  private final int valueCount;

  private PlainLabels(LabelType type, boolean categorical, int valueCount, BitSet missing,
      long[] longs, double[] doubles, boolean[] bools, byte[][] utf8) {
    this.type = type;
    this.categorical = categorical;
    this.missing = missing;
    this.longs = longs;
    this.doubles = doubles;
    this.bools = bools;
    this.utf8 = utf8;
    this.valueCount = valueCount;
  }

  static PlainLabels of(ColumnData column, LabelType type) {
    if (!(column instanceof ColumnData.Categorical cat)) {
      return new PlainLabels(type, false, 0, null, null, null, null, null);
    }
    ColumnData values = cat.categories();
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
      store(v, type, i, longs, doubles, bools, utf8);
    }
    return new PlainLabels(type, true, n, missing, longs, doubles, bools, utf8);
  }

  private static void store(Object v, LabelType type, int i, long[] longs, double[] doubles,
      boolean[] bools, byte[][] utf8) {
    switch (type) {
      case INT64 -> longs[i] = (Long) v;
      case FLOAT64 -> doubles[i] = (Double) v;
      case BOOL -> bools[i] = (Boolean) v;
      case UTF8 -> utf8[i] = ((String) v).getBytes(StandardCharsets.UTF_8);
    }
  }

  /** Reads the labels of one column (the store's, as the plan saw it). */
  public Reader reader(ColumnData column) {
    return new Reader(column);
  }

  /** The labels of one column: a row's slot, then its value at that slot. */
  public final class Reader {
    private final ColumnData column;
    private final ColumnData.Categorical cat;

    private Reader(ColumnData column) {
      this.column = column;
      this.cat = categorical ? (ColumnData.Categorical) column : null;
    }

    /** Where a row's value is, or -1 when the row's label is missing. */
    public int slot(int row) {
      if (cat == null) {
        return column.isMissing(row) ? -1 : row;
      }
      int i = cat.code(row);
      return i < 0 || i >= valueCount || missing.get(i) ? -1 : i;
    }

    public long longAt(int slot) {
      return cat != null ? longs[slot] : (Long) LabelValues.labelAt(column, slot, type);
    }

    public double doubleAt(int slot) {
      return cat != null ? doubles[slot] : (Double) LabelValues.labelAt(column, slot, type);
    }

    public boolean boolAt(int slot) {
      return cat != null ? bools[slot] : (Boolean) LabelValues.labelAt(column, slot, type);
    }

    public byte[] utf8At(int slot) {
      return cat != null ? utf8[slot]
          : ((String) LabelValues.labelAt(column, slot, type)).getBytes(StandardCharsets.UTF_8);
    }
  }
}
