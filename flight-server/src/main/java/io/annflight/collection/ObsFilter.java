package io.annflight.collection;

import java.util.HashSet;
import java.util.Set;
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
      Values values = new Values(e.getValue());
      if (c instanceof ColumnData.Categorical cat) {
        // Each category is matched once; a row then costs one array lookup.
        boolean[] match = new boolean[cat.categories().length()];
        for (int i = 0; i < match.length; i++) {
          match[i] = values.matches(LabelValues.labelAt(cat.categories(), i, type));
        }
        boolean matchMissing = values.matches(null);
        for (int r = 0; r < n; r++) {
          if (keep[r]) {
            int code = cat.code(r);
            keep[r] = code < 0 ? matchMissing : match[code];
          }
        }
        continue;
      }
      for (int r = 0; r < n; r++) {
        if (keep[r]) {
          keep[r] = values.matches(LabelValues.labelAt(c, r, type));
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

  /**
   * One key's values, hashed so that a row costs one lookup however many values there are, and
   * matching as {@link #matches} does value by value.
   */
  static final class Values {
    private final Set<Long> longs = new HashSet<>();
    /** Every numeric value as a double (longs too): what a float label compares with. */
    private final Set<Double> doubles = new HashSet<>();
    /** The non-integer numeric values: what an integer label compares with as a double. */
    private final Set<Double> floats = new HashSet<>();
    private final Set<Object> others = new HashSet<>();
    private boolean hasNull;

    Values(List<Object> values) {
      for (Object v : values) {
        if (v == null) {
          hasNull = true;
        } else if (isInteger(v)) {
          longs.add(((Number) v).longValue());
          doubles.add(normal(((Number) v).doubleValue()));
        } else if (v instanceof Number num) {
          doubles.add(normal(num.doubleValue()));
          floats.add(normal(num.doubleValue()));
        } else {
          others.add(v);
        }
      }
    }

    boolean matches(Object label) {
      if (label == null) {
        return hasNull;
      }
      if (isInteger(label)) {
        long x = ((Number) label).longValue();
        return longs.contains(x) || floats.contains(normal((double) x));
      }
      if (label instanceof Number num) {
        double d = num.doubleValue();
        return !Double.isNaN(d) && doubles.contains(normal(d));
      }
      return others.contains(label);
    }

    private static boolean isInteger(Object v) {
      return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
    }

    /** -0.0 and 0.0 are equal as numbers but not as Doubles; NaN never matches. */
    private static Double normal(double d) {
      return d == 0.0 ? 0.0 : d;
    }
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
