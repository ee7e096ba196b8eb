package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.ColumnData;
import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import java.util.BitSet;

/** Decodes one data frame column element into {@link ColumnData}, by its anndata encoding. */
final class ZarrColumns {

  private final ZarrTree tree;

  ZarrColumns(ZarrTree tree) {
    this.tree = tree;
  }

  /**
   * @param frame the data frame group (legacy categories paths are relative to it)
   * @param element the column element path
   */
  ColumnData read(String frame, String element) {
    if (!tree.exists(element)) {
      throw new StoreNotFoundException(tree.root(), element, "expected a data frame column, found nothing");
    }
    String encoding = tree.encodingType(element);
    boolean group = tree.isGroup(element);
    switch (encoding) {
      case "categorical":
        requireGroup(element, group, encoding);
        return categorical(element);
      case "nullable-integer":
      case "nullable-boolean":
      case "nullable-string-array":
        requireGroup(element, group, encoding);
        return nullable(element, encoding);
      case "string-array":
      case "array":
      case "":
        if (group) {
          throw new UnsupportedLayoutException(
              tree.root(), element, "a group with encoding-type '" + encoding + "' is not a data frame column");
        }
        JsonNode legacyCategories = tree.attrs(element).get("categories");
        if (legacyCategories != null) {
          return legacyCategorical(frame, element, legacyCategories);
        }
        return plain(tree.array(element), null);
      default:
        throw new UnsupportedLayoutException(
            tree.root(), element,
            "column encoding-type '" + encoding + "' is not supported (expected categorical, string-array,"
                + " array, nullable-integer, nullable-boolean or nullable-string-array)");
    }
  }

  private void requireGroup(String element, boolean group, String encoding) {
    if (!group) {
      throw new MalformedStoreException(
          tree.root(), element, "encoding-type '" + encoding + "' must be a group, found an array");
    }
  }

  /** A plain 1-d array as a column; {@code mask} (may be null) marks missing entries. */
  ColumnData plain(ZarrArray a, boolean[] mask) {
    if (a.rank() != 1) {
      throw new MalformedStoreException(
          tree.root(), a.element(), "expected a 1-d column, found shape " + java.util.Arrays.toString(a.shape()));
    }
    if (!a.isNumeric()) {
      String[] values = a.readAllStrings();
      if (mask != null) {
        for (int i = 0; i < values.length; i++) {
          if (mask[i]) {
            values[i] = null;
          }
        }
      }
      return new ColumnData.Strings(values);
    }
    int n = Math.toIntExact(a.length());
    TypedBuffer b = a.read1d(0, n);
    ElementType t = a.elementType();
    BitSet missing = new BitSet(n);
    if (mask != null) {
      for (int i = 0; i < n; i++) {
        if (mask[i]) {
          missing.set(i);
        }
      }
    }
    if (t == ElementType.BOOL) {
      boolean[] v = new boolean[n];
      for (int i = 0; i < n; i++) {
        v[i] = b.bytes().get(i) != 0;
      }
      return new ColumnData.Booleans(v, missing);
    }
    if (t.isFloating()) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = mask != null && mask[i] ? Double.NaN : b.getDouble(i);
      }
      return new ColumnData.Floats(t, v);
    }
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = b.getLong(i);
    }
    return new ColumnData.Integers(t, v, missing);
  }

  private ColumnData categorical(String element) {
    ZarrArray codes = tree.array(ZarrTree.join(element, "codes"));
    ZarrArray categories = tree.array(ZarrTree.join(element, "categories"));
    JsonNode ordered = tree.attrs(element).path("ordered");
    return buildCategorical(codes, categories, ordered.asBoolean(false));
  }

  /**
   * anndata < 0.8: the codes array's {@code categories} attribute names the categories array
   * relative to the data frame group (e.g. {@code __categories/cell_type}), which carries
   * {@code ordered}. Very old files put the category values in the attribute itself.
   */
  private ColumnData legacyCategorical(String frame, String element, JsonNode categoriesAttr) {
    ZarrArray codes = tree.array(element);
    if (categoriesAttr.isTextual()) {
      String path = ZarrTree.join(frame, categoriesAttr.asText());
      if (!tree.isArray(path)) {
        throw new StoreNotFoundException(
            tree.root(), element, "its 'categories' attribute names '" + path + "', which is not an array");
      }
      ZarrArray categories = tree.array(path);
      boolean ordered = tree.attrs(path).path("ordered").asBoolean(false);
      return buildCategorical(codes, categories, ordered);
    }
    if (categoriesAttr.isArray()) {
      String[] values = new String[categoriesAttr.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = categoriesAttr.get(i).asText();
      }
      return new ColumnData.Categorical(codes(codes, values.length), new ColumnData.Strings(values), false);
    }
    throw new MalformedStoreException(
        tree.root(), element, "'categories' attribute must name an array, found " + categoriesAttr);
  }

  private ColumnData buildCategorical(ZarrArray codesArray, ZarrArray categoriesArray, boolean ordered) {
    ColumnData categories = plain(categoriesArray, null);
    return new ColumnData.Categorical(codes(codesArray, categories.length()), categories, ordered);
  }

  private int[] codes(ZarrArray a, int nCategories) {
    a.requireNumeric(1);
    if (!a.elementType().isInteger()) {
      throw new MalformedStoreException(
          tree.root(), a.element(), "categorical codes must be integers, found " + a.elementType().numpyName());
    }
    int n = Math.toIntExact(a.length());
    TypedBuffer b = a.read1d(0, n);
    int[] codes = new int[n];
    for (int i = 0; i < n; i++) {
      long c = b.getLong(i);
      if (c < -1 || c >= nCategories) {
        throw new MalformedStoreException(
            tree.root(), a.element(),
            "code " + c + " at row " + i + " is outside [-1, " + nCategories + ")");
      }
      codes[i] = (int) c;
    }
    return codes;
  }

  private ColumnData nullable(String element, String encoding) {
    ZarrArray values = tree.array(ZarrTree.join(element, "values"));
    ZarrArray maskArray = tree.array(ZarrTree.join(element, "mask"));
    if (!maskArray.isNumeric() || maskArray.elementType() != ElementType.BOOL || maskArray.rank() != 1) {
      throw new MalformedStoreException(
          tree.root(), maskArray.element(), "expected a 1-d bool mask, found dtype " + maskArray.meta().dtype().text());
    }
    if (maskArray.length() != values.length()) {
      throw new MalformedStoreException(
          tree.root(), element, "mask has " + maskArray.length() + " entries, values " + values.length());
    }
    int n = Math.toIntExact(maskArray.length());
    TypedBuffer mb = maskArray.read1d(0, n);
    boolean[] mask = new boolean[n];
    for (int i = 0; i < n; i++) {
      mask[i] = mb.bytes().get(i) != 0;
    }
    boolean expectStrings = encoding.equals("nullable-string-array");
    boolean expectBool = encoding.equals("nullable-boolean");
    boolean ok = expectStrings
        ? !values.isNumeric()
        : values.isNumeric() && (expectBool == (values.elementType() == ElementType.BOOL))
            && !values.elementType().isFloating();
    if (!ok) {
      throw new MalformedStoreException(
          tree.root(), values.element(),
          encoding + " values have dtype " + values.meta().dtype().text());
    }
    return plain(values, mask);
  }
}
