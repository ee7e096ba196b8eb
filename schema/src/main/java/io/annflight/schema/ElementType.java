package io.annflight.schema;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Numeric element types (numpy dtypes anndata writes): what stores hold, what a request's
 * {@code dtype} may name, and what matrix columns are sent as.
 */
public enum ElementType {
  BOOL(1, false, false),
  INT8(1, false, true),
  INT16(2, false, true),
  INT32(4, false, true),
  INT64(8, false, true),
  UINT8(1, false, false),
  UINT16(2, false, false),
  UINT32(4, false, false),
  UINT64(8, false, false),
  FLOAT32(4, true, true),
  FLOAT64(8, true, true);

  private final int byteWidth;
  private final boolean floating;
  private final boolean signed;

  ElementType(int byteWidth, boolean floating, boolean signed) {
    this.byteWidth = byteWidth;
    this.floating = floating;
    this.signed = signed;
  }

  public int byteWidth() {
    return byteWidth;
  }

  public boolean isFloating() {
    return floating;
  }

  public boolean isSigned() {
    return signed;
  }

  public boolean isInteger() {
    return !floating && this != BOOL;
  }

  /** The numpy dtype name ("float32", "int64", "bool"...). */
  public String numpyName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a numpy dtype name; returns null when unknown. */
  public static ElementType fromNumpyName(String name) {
    if (name == null) {
      return null;
    }
    for (ElementType t : values()) {
      if (t.numpyName().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /**
   * Parses a request's {@code dtype}: a numpy name, or the aliases {@code float}/{@code double}
   * (float64), {@code int} (int64), {@code f4}, {@code f8}, {@code i4}, {@code i8}.
   *
   * @throws RequestException naming the accepted values
   */
  public static ElementType parseDtype(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    switch (n) {
      case "float", "double", "f8" -> n = "float64";
      case "f4", "single" -> n = "float32";
      case "int", "i8" -> n = "int64";
      case "i4" -> n = "int32";
      default -> { }
    }
    ElementType t = fromNumpyName(n);
    if (t == null) {
      throw new RequestException(
          "unsupported dtype \""
              + name
              + "\"; expected one of "
              + Arrays.stream(values())
                  .map(ElementType::numpyName)
                  .collect(Collectors.joining(", ")));
    }
    return t;
  }

  /**
   * numpy's {@code result_type} for two stored types: the smallest type both convert to without
   * loss (int32 with float32 gives float64; uint64 with a signed type gives float64).
   */
  public static ElementType promote(ElementType a, ElementType b) {
    if (a == b) {
      return a;
    }
    if (a == BOOL) {
      return b;
    }
    if (b == BOOL) {
      return a;
    }
    if (a.floating || b.floating) {
      if (a.floating && b.floating) {
        return a.byteWidth >= b.byteWidth ? a : b;
      }
      ElementType f = a.floating ? a : b;
      ElementType i = a.floating ? b : a;
      // float32 holds int8/int16/uint8/uint16 exactly; wider integers need float64.
      return f == FLOAT32 && i.byteWidth <= 2 ? FLOAT32 : FLOAT64;
    }
    if (a.signed == b.signed) {
      return a.byteWidth >= b.byteWidth ? a : b;
    }
    ElementType u = a.signed ? b : a;
    ElementType s = a.signed ? a : b;
    if (s.byteWidth > u.byteWidth) {
      return s;
    }
    return switch (u.byteWidth) {
      case 1 -> INT16;
      case 2 -> INT32;
      case 4 -> INT64;
      default -> FLOAT64;
    };
  }
}
