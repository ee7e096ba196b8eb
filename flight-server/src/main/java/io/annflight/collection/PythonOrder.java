package io.annflight.collection;

import java.util.Comparator;

/**
 * The order of Python's {@code sorted()} (and numpy's string comparisons) for label values:
 * strings by Unicode code point, so a character outside the Basic Multilingual Plane sorts
 * after U+FFFF as in Python, not among the surrogates as Java's UTF-16 {@code compareTo} puts
 * it; numbers numerically (-0.0 equals 0.0); False before True.
 */
public final class PythonOrder {
  private PythonOrder() {}

  /** Label values of one key share one type: String, Long, Double or Boolean. */
  public static final Comparator<Object> VALUES = PythonOrder::compareValues;

  public static final Comparator<String> STRINGS = PythonOrder::compareStrings;

  public static int compareStrings(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private static int compareValues(Object a, Object b) {
    if (a instanceof String s) {
      return compareStrings(s, (String) b);
    }
    if (a instanceof Double x) {
      double y = (Double) b;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a instanceof Long x) {
      return Long.compare(x, (Long) b);
    }
    return Boolean.compare((Boolean) a, (Boolean) b);
  }
}
