package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.schema.RequestException;
import io.annflight.store.ColumnData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Labels of obs columns as MappedCollection sees them: a categorical is decoded through its
 * categories, every other column is taken as stored. Values are String, Long, Double or Boolean;
 * null is missing.
 *
 * @param values one label per row
 */
public record LabelValues(LabelType type, List<Object> values) {

  /** The wire type of a column's labels (of its categories, for a categorical). */
  public static LabelType typeOf(ColumnData c) {
    ColumnData values = c instanceof ColumnData.Categorical cat ? cat.categories() : c;
    if (values instanceof ColumnData.Strings) {
      return LabelType.UTF8;
    }
    if (values instanceof ColumnData.Integers) {
      return LabelType.INT64;
    }
    if (values instanceof ColumnData.Floats) {
      return LabelType.FLOAT64;
    }
    return LabelType.BOOL;
  }

  /**
   * The common wire type of a key's labels across stores. Numbers mix (to float64 when any
   * store holds floats, booleans count as numbers), strings do not mix with numbers.
   */
  public static LabelType commonType(String key, Collection<LabelType> types) {
    Set<LabelType> set = Set.copyOf(types);
    if (set.size() == 1) {
      return set.iterator().next();
    }
    if (set.contains(LabelType.UTF8)) {
      throw new RequestException("obs key \"" + key + "\" holds strings in some stores and "
          + "numbers or booleans in others " + set + "; labels cannot be merged");
    }
    return set.contains(LabelType.FLOAT64) ? LabelType.FLOAT64 : LabelType.INT64;
  }

  /** The label of one row, converted to {@code type}; null when missing. */
  public static Object labelAt(ColumnData c, int row, LabelType type) {
    if (c instanceof ColumnData.Categorical cat) {
      int code = cat.code(row);
      return code < 0 ? null : valueAt(cat.categories(), code, type);
    }
    return valueAt(c, row, type);
  }

  private static Object valueAt(ColumnData c, int i, LabelType type) {
    if (c.isMissing(i)) {
      return null;
    }
    Object v;
    if (c instanceof ColumnData.Strings s) {
      v = s.values()[i];
    } else if (c instanceof ColumnData.Integers n) {
      v = n.values()[i];
    } else if (c instanceof ColumnData.Floats f) {
      v = f.values()[i];
    } else {
      v = ((ColumnData.Booleans) c).values()[i];
    }
    return convert(v, type);
  }

  /** Converts a label value to the key's common type (numbers only widen). */
  public static Object convert(Object v, LabelType type) {
    if (v == null) {
      return null;
    }
    return switch (type) {
      case UTF8, BOOL -> v;
      case INT64 -> v instanceof Boolean b ? (Object) (b ? 1L : 0L) : v;
      case FLOAT64 -> v instanceof Boolean b ? (Object) (b ? 1.0 : 0.0)
          : v instanceof Long l ? (Object) l.doubleValue() : v;
    };
  }

  /**
   * The values a store contributes to the merged categories: all categories of a categorical
   * (used or not), else the distinct non-missing values.
   */
  public static Set<Object> categoriesOf(ColumnData c, LabelType type) {
    Set<Object> out = new LinkedHashSet<>();
    if (c instanceof ColumnData.Categorical cat) {
      for (int i = 0; i < cat.categories().length(); i++) {
        Object v = valueAt(cat.categories(), i, type);
        if (v != null) {
          out.add(v);
        }
      }
    } else {
      for (int i = 0; i < c.length(); i++) {
        Object v = valueAt(c, i, type);
        if (v != null) {
          out.add(v);
        }
      }
    }
    return out;
  }

  /** Sorted as Python's {@code sorted()} orders these values (see {@link PythonOrder}). */
  public static List<Object> sorted(Collection<Object> values) {
    List<Object> out = new ArrayList<>(values);
    out.sort(PythonOrder.VALUES);
    return out;
  }

  /** numpy's {@code astype(str)} of a label: {@code nan} for missing, Python's repr for floats. */
  public static String toPythonString(Object v) {
    if (v == null) {
      return "nan";
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Double d) {
      return pythonFloatRepr(d);
    }
    return v.toString();
  }

  static String pythonFloatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e16) {
      return new java.math.BigDecimal(d).toPlainString() + ".0";
    }
    double abs = Math.abs(d);
    String s = Double.toString(d);
    if (abs >= 1e-4 && abs < 1e16) {
      return new java.math.BigDecimal(s).toPlainString();
    }
    // Java writes 1.0E-5; Python writes 1e-05.
    java.math.BigDecimal bd = new java.math.BigDecimal(s).stripTrailingZeros();
    String digits = bd.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - bd.scale();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    String sign = d < 0 ? "-" : "";
    String e = (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    return sign + mantissa + "e" + e;
  }
}
