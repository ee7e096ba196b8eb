package io.annflight.store.anndata;

import io.annflight.store.ColumnData;

/** A column's values as the text labels pandas shows for them (data frame indexes). */
final class Labels {
  private Labels() {}

  /** Missing values become "" (anndata writes a missing index entry so). */
  static String[] asStrings(ColumnData c) {
    String[] out = new String[c.length()];
    for (int r = 0; r < out.length; r++) {
      out[r] = c.isMissing(r) ? "" : label(c, r);
    }
    return out;
  }

  private static String label(ColumnData c, int r) {
    if (c instanceof ColumnData.Strings s) {
      return s.values()[r];
    }
    if (c instanceof ColumnData.Integers i) {
      return Long.toString(i.values()[r]);
    }
    if (c instanceof ColumnData.Floats f) {
      return Double.toString(f.values()[r]);
    }
    if (c instanceof ColumnData.Booleans b) {
      return b.values()[r] ? "True" : "False";
    }
    ColumnData.Categorical cat = (ColumnData.Categorical) c;
    return label(cat.categories(), cat.code(r));
  }
}
