package io.annflight.collection;

import io.annflight.store.ColumnData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes an obs column cheap to keep: a string column whose values repeat (a label stored as
 * plain strings rather than a categorical) becomes a categorical of its distinct values, one
 * compact code a row instead of one String object a row. Labels, filters and encodings read
 * both forms alike ({@link LabelValues}), so nothing else changes.
 */
final class CompactColumns {
  private CompactColumns() {}

  static ColumnData compact(ColumnData column) {
    if (!(column instanceof ColumnData.Strings strings)) {
      return column;
    }
    String[] values = strings.values();
    Map<String, Integer> position = new HashMap<>();
    List<String> distinct = new ArrayList<>();
    int[] codes = new int[values.length];
    for (int r = 0; r < values.length; r++) {
      String v = values[r];
      if (v == null) {
        codes[r] = -1;
        continue;
      }
      Integer p = position.get(v);
      if (p == null) {
        if (distinct.size() >= values.length / 2) {
          return column; // mostly unique (names, barcodes): a dictionary would not save memory
        }
        p = distinct.size();
        position.put(v, p);
        distinct.add(v);
      }
      codes[r] = p;
    }
    return new ColumnData.Categorical(codes,
        new ColumnData.Strings(distinct.toArray(new String[0])), false);
  }
}
