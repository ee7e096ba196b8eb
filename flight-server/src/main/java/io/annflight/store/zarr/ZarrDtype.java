package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.ElementType;
import java.util.ArrayList;
import java.util.List;

/**
 * A Zarr v2 {@code dtype} as anndata writes it: numeric ({@code <f4}, {@code |b1},
 * {@code >u8}...), object ({@code |O}, decoded by the vlen-utf8 filter), fixed-width unicode
 * ({@code <U12}), fixed-width bytes ({@code |S12}), or a structured (record) dtype, the list
 * {@code [["index", "|S18"], ["n_genes", "<i8"], ["X_pca", "<f4", [50]]]} anndata up to 0.6
 * wrote its data frames with.
 *
 * @param fields a structured dtype's fields in stored order; empty for the other kinds
 */
record ZarrDtype(Kind kind, ElementType elementType, boolean bigEndian, int itemSize, String text,
    List<Field> fields) {

  enum Kind {
    NUMERIC,
    OBJECT,
    FIXED_UNICODE,
    FIXED_BYTES,
    STRUCTURED
  }

  /**
   * One field of a structured dtype: its values start {@code offset} bytes into each record;
   * {@code count} values of {@code type} (a sub-array field such as {@code X_pca} has several).
   */
  record Field(String name, ZarrDtype type, int offset, int count) {}

  ZarrDtype(Kind kind, ElementType elementType, boolean bigEndian, int itemSize, String text) {
    this(kind, elementType, bigEndian, itemSize, text, List.of());
  }

  boolean isNumeric() {
    return kind == Kind.NUMERIC;
  }

  /** The same type stored big-endian (a v3 {@code bytes} codec with endian big). */
  ZarrDtype withBigEndian() {
    return new ZarrDtype(kind, elementType, itemSize > 1, itemSize, text, fields);
  }

  /**
   * Parses a structured dtype (a JSON list of {@code [name, dtype]} or
   * {@code [name, dtype, shape]}); returns null when it is not one annflight reads: fields of
   * numbers, booleans or fixed-width strings with distinct names, padding ({@code ["", "|V4"]})
   * allowed, no nested records or object fields.
   */
  static ZarrDtype parseStructured(JsonNode list) {
    if (list == null || !list.isArray() || list.isEmpty()) {
      return null;
    }
    List<Field> fields = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    long offset = 0;
    for (JsonNode f : list) {
      if (!f.isArray() || f.size() < 2 || f.size() > 3 || !f.get(0).isTextual()
          || !f.get(1).isTextual()) {
        return null;
      }
      String name = f.get(0).asText();
      String typeText = f.get(1).asText();
      long count = 1;
      if (f.size() == 3) {
        if (!f.get(2).isArray()) {
          return null;
        }
        for (JsonNode d : f.get(2)) {
          if (!d.canConvertToInt() || d.asInt() < 0) {
            return null;
          }
          count *= d.asInt();
          if (count > Integer.MAX_VALUE) {
            return null;
          }
        }
      }
      long size;
      if (name.isEmpty() && typeText.length() > 2 && typeText.startsWith("|V")) {
        size = padding(typeText); // numpy's unnamed padding between aligned fields
        if (size < 0) {
          return null;
        }
      } else {
        ZarrDtype type = parse(typeText);
        if (type == null || type.kind() == Kind.OBJECT || !names.add(name)) {
          return null;
        }
        fields.add(new Field(name, type, (int) offset, (int) count));
        size = (long) type.itemSize() * count;
      }
      offset += size;
      if (offset > Integer.MAX_VALUE) {
        return null;
      }
    }
    if (fields.isEmpty() || offset == 0) {
      return null;
    }
    return new ZarrDtype(Kind.STRUCTURED, null, false, (int) offset, list.toString(),
        List.copyOf(fields));
  }

  private static long padding(String text) {
    try {
      return Integer.parseInt(text.substring(2));
    } catch (NumberFormatException e) {
      return -1;
    }
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
