package io.annflight.store.zarr;

import io.annflight.schema.ElementType;

/**
 * A Zarr v2 {@code dtype} string as anndata writes it: numeric ({@code <f4}, {@code |b1},
 * {@code >u8}...), object ({@code |O}, decoded by the vlen-utf8 filter), fixed-width unicode
 * ({@code <U12}) or fixed-width bytes ({@code |S12}).
 */
record ZarrDtype(Kind kind, ElementType elementType, boolean bigEndian, int itemSize, String text) {

  enum Kind {
    NUMERIC,
    OBJECT,
    FIXED_UNICODE,
    FIXED_BYTES
  }

  boolean isNumeric() {
    return kind == Kind.NUMERIC;
  }

  /** The same type stored big-endian (a v3 {@code bytes} codec with endian big). */
  ZarrDtype withBigEndian() {
    return new ZarrDtype(kind, elementType, itemSize > 1, itemSize, text);
  }

  /** Parses a dtype string; returns null when it is not one of the forms above. */
  static ZarrDtype parse(String text) {
    if (text == null || text.length() < 2) {
      return null;
    }
    char order = text.charAt(0);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
      return null;
    }
    boolean big = order == '>';
    String body = text.substring(1);
    if (body.equals("O")) {
      return new ZarrDtype(Kind.OBJECT, null, false, -1, text);
    }
    char code = body.charAt(0);
    int size;
    try {
      size = Integer.parseInt(body.substring(1));
    } catch (NumberFormatException e) {
      return null;
    }
    if (size <= 0) {
      return null;
    }
    if (code == 'U') {
      return new ZarrDtype(Kind.FIXED_UNICODE, null, big, Math.multiplyExact(size, 4), text);
    }
    if (code == 'S') {
      return new ZarrDtype(Kind.FIXED_BYTES, null, false, size, text);
    }
    ElementType type = numeric(code, size);
    if (type == null) {
      return null;
    }
    return new ZarrDtype(Kind.NUMERIC, type, big && size > 1, size, text);
  }

  private static ElementType numeric(char code, int size) {
    return switch (code) {
      case 'b' -> size == 1 ? ElementType.BOOL : null;
      case 'i' -> switch (size) {
        case 1 -> ElementType.INT8;
        case 2 -> ElementType.INT16;
        case 4 -> ElementType.INT32;
        case 8 -> ElementType.INT64;
        default -> null;
      };
      case 'u' -> switch (size) {
        case 1 -> ElementType.UINT8;
        case 2 -> ElementType.UINT16;
        case 4 -> ElementType.UINT32;
        case 8 -> ElementType.UINT64;
        default -> null;
      };
      case 'f' -> switch (size) {
        case 4 -> ElementType.FLOAT32;
        case 8 -> ElementType.FLOAT64;
        default -> null;
      };
      default -> null;
    };
  }
}
