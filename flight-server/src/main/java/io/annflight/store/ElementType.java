package io.annflight.store;

/** Numeric element types a matrix or column can be stored with (numpy dtypes anndata writes). */
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
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses a numpy dtype name such as {@code float32}; returns null when unknown. */
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
}
