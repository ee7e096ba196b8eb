package io.annflight.collection;

import io.annflight.store.ColumnData;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MappedCollection's {@code obs_filter}: a row is kept when, for every key, its label is one of
 * the key's values (null among the values keeps missing labels). A store lacking a key keeps no
 * row.
 */
final class ObsFilter {
  private ObsFilter() {}

  /** The sorted local rows of one store that pass, or null when there is no filter. */
  static int[] select(StoreHandle store, Map<String, List<Object>> filter) {
    if (filter.isEmpty()) {
      return null;
    }
    int n = Math.toIntExact(store.nObs());
    boolean[] keep = new boolean[n];
    java.util.Arrays.fill(keep, true);
    for (Map.Entry<String, List<Object>> e : filter.entrySet()) {
      Optional<ColumnData> column = store.obsColumn(e.getKey());
      if (column.isEmpty()) {
        return new int[0];
      }
      ColumnData c = column.get();
      var type = LabelValues.typeOf(c);
      for (int r = 0; r < n; r++) {
        if (keep[r]) {
          keep[r] = matchesAny(LabelValues.labelAt(c, r, type), e.getValue());
        }
      }
    }
    int count = 0;
    for (boolean k : keep) {
      count += k ? 1 : 0;
    }
    int[] rows = new int[count];
    for (int r = 0, i = 0; r < n; r++) {
      if (keep[r]) {
        rows[i++] = r;
      }
    }
    return rows;
  }

  private static boolean matchesAny(Object label, List<Object> values) {
    for (Object v : values) {
      if (matches(label, v)) {
        return true;
      }
    }
    return false;
  }

  /** numpy's isin equality: strings equal strings, numbers compare by value. */
  static boolean matches(Object label, Object value) {
    if (label == null || value == null) {
      return label == null && value == null;
    }
    if (label instanceof Number a && value instanceof Number b) {
      if (a instanceof Long x && b instanceof Long y) {
        return x.longValue() == y.longValue();
      }
      return a.doubleValue() == b.doubleValue();
    }
    return label.equals(value);
  }
}
