package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.CategoryCodes;
import io.annflight.store.ColumnData;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.container.ContainerNode;
import java.nio.file.Path;
import java.util.BitSet;

/**
 * Decodes one data frame column in every encoding anndata has written, whatever the container:
 * plain numeric, boolean and string arrays ({@code array}, {@code string-array}), categoricals
 * (the 0.8 group, and the older codes array whose {@code categories} attribute names or
 * references the categories), and the nullable encodings ({@code nullable-integer},
 * {@code nullable-boolean}, {@code nullable-string-array}). A 2-D array of one column counts as
 * 1-D. Every check on the values (codes within their categories, mask lengths) is here.
 */
final class Columns {

  private final Container container;
  private final Path file;

  Columns(Container container) {
    this.container = container;
    this.file = container.path();
  }

  /**
   * @param frame the data frame group's path (legacy category paths are relative to it)
   * @param node the column's node
   * @param name the column as messages name it (its element path)
   */
  ColumnData decode(String frame, ContainerNode node, String name) {
    String enc = node.attributes().encodingType().orElse("");
    if (node instanceof ContainerGroup group) {
      return decodeGroup(group, name, enc);
    }
    ContainerArray array = (ContainerArray) node;
    switch (enc) {
      case "", "array", "string-array" -> { }
      default -> throw new UnsupportedLayoutException(file, name, "is an array with encoding-type '"
          + enc + "', expected a data frame column (array, string-array or a categorical or"
          + " nullable group)");
    }
    if (node.attributes().has("categories")) {
      return legacyCategorical(frame, array, name);
    }
    return plain(array, name);
  }

  /**
   * The number of values of a column from its arrays' shapes, reading no values: what a store
   * needs to know of its obs index when it opens.
   */
  long length(ContainerNode node, String name) {
    ContainerNode values = node;
    if (node instanceof ContainerGroup group) {
      String enc = group.attributes().encodingType().orElse("");
      String child = switch (enc) {
        case "categorical" -> "codes";
        case "nullable-integer", "nullable-boolean", "nullable-string-array" -> "values";
        default -> throw new UnsupportedLayoutException(file, name,
            "is a group with encoding-type '" + (enc.isEmpty() ? "<none>" : enc)
                + "', expected a column: categorical, nullable-integer, nullable-boolean or "
                + "nullable-string-array");
      };
      values = part(group, name, child, "the column's " + child);
    }
    ContainerArray array = (ContainerArray) values;
    long[] shape = array.shape();
    if (shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
      throw malformed(name, "has shape " + java.util.Arrays.toString(shape)
          + ", expected a 1-D column");
    }
    return array.nRows();
  }

  private ColumnData decodeGroup(ContainerGroup group, String name, String enc) {
    return switch (enc) {
      case "categorical" -> {
        ColumnData categories = categories(group, name);
        CategoryCodes codes = codes(part(group, name, "codes", "the codes"), name + "/codes",
            categories.length());
        // anndataR and some R writers leave 'ordered' out: pandas' default is unordered.
        yield new ColumnData.Categorical(codes, checkCategories(categories, name),
            group.attributes().flag("ordered", false));
      }
      case "nullable-integer" -> {
        ColumnData values = plain(part(group, name, "values", "the integer values"),
            name + "/values");
        if (!(values instanceof ColumnData.Integers ints)) {
          throw malformed(name + "/values", "is not an integer array, expected one for "
              + "encoding-type nullable-integer");
        }
        yield new ColumnData.Integers(ints.type(), ints.values(), mask(group, name,
            values.length()));
      }
      case "nullable-boolean" -> {
        ColumnData values = plain(part(group, name, "values", "the boolean values"),
            name + "/values");
        if (!(values instanceof ColumnData.Booleans bools)) {
          throw malformed(name + "/values", "is not a boolean array, expected one for "
              + "encoding-type nullable-boolean");
        }
        yield new ColumnData.Booleans(bools.values(), mask(group, name, values.length()));
      }
      case "nullable-string-array" -> {
        ContainerArray valuesArray = part(group, name, "values", "the string values");
        if (valuesArray.kind() != ContainerArray.Kind.STRING) {
          throw malformed(name + "/values", "is not a string array, expected one for "
              + "encoding-type nullable-string-array");
        }
        String[] values = strings(valuesArray, name + "/values");
        BitSet mask = mask(group, name, values.length);
        for (int i = mask.nextSetBit(0); i >= 0; i = mask.nextSetBit(i + 1)) {
          values[i] = null;
        }
        yield new ColumnData.Strings(values);
      }
      default -> throw new UnsupportedLayoutException(file, name,
          "is a group with encoding-type '" + (enc.isEmpty() ? "<none>" : enc)
              + "', expected a column: categorical, nullable-integer, nullable-boolean or "
              + "nullable-string-array");
    };
  }

  /**
   * A categorical's categories: a plain array, or (anndata 0.11 with nullable strings) a
   * {@code nullable-string-array} group.
   */
  private ColumnData categories(ContainerGroup group, String name) {
    String p = join(group.path(), "categories");
    ContainerNode node = container.find(p).orElseThrow(() -> new StoreNotFoundException(file,
        name + "/categories", "missing (expected the categories)"));
    return node instanceof ContainerArray a ? plain(a, name + "/categories")
        : decode(group.path(), node, name + "/categories");
  }

  private ContainerArray part(ContainerGroup group, String name, String child, String what) {
    String p = join(group.path(), child);
    ContainerNode node = container.find(p).orElseThrow(() -> new StoreNotFoundException(file,
        name + "/" + child, "missing (expected " + what + ")"));
    if (!(node instanceof ContainerArray a)) {
      throw malformed(name + "/" + child, "is a group, expected " + what + " (an array)");
    }
    return a;
  }

  private BitSet mask(ContainerGroup group, String name, int length) {
    ColumnData mask = plain(part(group, name, "mask", "the missing-value mask"), name + "/mask");
    if (!(mask instanceof ColumnData.Booleans b) || b.length() != length) {
      throw malformed(name + "/mask", "expected a boolean mask of " + length + " entries, found "
          + describe(mask));
    }
    BitSet set = new BitSet(length);
    for (int i = 0; i < length; i++) {
      set.set(i, b.values()[i]);
    }
    return set;
  }

  private static String describe(ColumnData c) {
    return c.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " of " + c.length();
  }

  /**
   * anndata 0.7: the codes array's {@code categories} attribute names the categories array
   * relative to the data frame (Zarr: {@code __categories/cell_type}) or references it (HDF5,
   * an absolute path here); the categories array carries {@code ordered}. Very old Zarr files
   * put the category values in the attribute itself.
   */
  private ColumnData legacyCategorical(String frame, ContainerArray codesArray, String name) {
    var attr = codesArray.attributes().get("categories");
    if (attr.isArray()) {
      String[] values = new String[attr.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = attr.get(i).asText();
      }
      return new ColumnData.Categorical(codes(codesArray, name, values.length),
          new ColumnData.Strings(values), codesArray.attributes().flag("ordered", false));
    }
    if (!attr.isTextual()) {
      throw malformed(name, "has a 'categories' attribute " + attr
          + ", expected the categories array's name or a reference to it");
    }
    String target = attr.asText();
    String path = target.startsWith("/") ? target.substring(1) : join(frame, target);
    ContainerNode node = container.find(path).orElseThrow(() -> new StoreNotFoundException(file,
        name, "its 'categories' attribute names '" + path + "', which does not exist"));
    if (!(node instanceof ContainerArray categoriesArray)) {
      throw malformed(name, "its 'categories' attribute names '" + path
          + "', a group; expected the categories array");
    }
    ColumnData categories = plain(categoriesArray, path);
    boolean ordered = codesArray.attributes().has("ordered")
        ? codesArray.attributes().flag("ordered", false)
        : categoriesArray.attributes().flag("ordered", false);
    return new ColumnData.Categorical(codes(codesArray, name, categories.length()),
        checkCategories(categories, name), ordered);
  }

  private ColumnData checkCategories(ColumnData categories, String name) {
    if (categories instanceof ColumnData.Categorical) {
      throw malformed(name, "has categorical categories, expected a plain array");
    }
    return categories;
  }

  /**
   * Categorical codes, each checked to be -1 (missing) or a category's position, read straight
   * into their compact form (no wider array per row on the way).
   */
  CategoryCodes codes(ContainerArray array, String name, int nCategories) {
    long rows = checkedColumnRows(array, name);
    if (array.kind() != ContainerArray.Kind.NUMERIC || !array.elementType().isInteger()) {
      throw malformed(name, "holds " + array.kind().name().toLowerCase(java.util.Locale.ROOT)
          + " " + array.elementType() + " values, expected integer categorical codes");
    }
    TypedBuffer b = array.readRange(0, rows);
    int n = b.length();
    CategoryCodes out = CategoryCodes.allocate(n, nCategories);
    for (int i = 0; i < n; i++) {
      long code = b.getLong(i);
      if (code < -1 || code >= nCategories) {
        throw malformed(name, "code " + code + " at row " + i + " is outside the "
            + nCategories + " categories (expected -1 for missing or 0.." + (nCategories - 1)
            + "; codes written 1-based?)");
      }
      out.set(i, (int) code);
    }
    return out;
  }

  /** The rows of a 1-D (or n x 1) column array, checked to fit one Java array. */
  private long checkedColumnRows(ContainerArray array, String name) {
    long[] shape = array.shape();
    if (shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
      throw malformed(name, "has shape " + java.util.Arrays.toString(shape)
          + ", expected a 1-D column");
    }
    long rows = array.nRows();
    if (rows > Integer.MAX_VALUE - 8) {
      throw new UnsupportedLayoutException(file, name, "has " + rows + " rows, more than a"
          + " column annflight reads");
    }
    return rows;
  }

  /** A 1-D array (or an n x 1 one) of numbers, booleans or strings. */
  ColumnData plain(ContainerArray array, String name) {
    long[] shape = array.shape();
    if (shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
      throw malformed(name, "has shape " + java.util.Arrays.toString(shape)
          + ", expected a 1-D column");
    }
    if (array.kind() == ContainerArray.Kind.STRING) {
      return new ColumnData.Strings(strings(array, name));
    }
    if (array.kind() != ContainerArray.Kind.NUMERIC) {
      throw new UnsupportedLayoutException(file, name, "is a " + array.kind()
          + " array, expected numbers, booleans or strings");
    }
    long rows = array.nRows();
    int width = array.elementType().byteWidth();
    // A column is read whole into one array: its bytes, not only its rows, must fit one.
    if (rows > (Integer.MAX_VALUE - 16) / width) {
      throw new UnsupportedLayoutException(file, name, "has " + rows + " rows of " + width
          + " bytes, more than a column annflight reads (2 GiB)");
    }
    TypedBuffer b = array.readRange(0, rows);
    int n = b.length();
    ElementType t = b.type();
    if (t == ElementType.BOOL) {
      boolean[] v = new boolean[n];
      for (int i = 0; i < n; i++) {
        v[i] = b.bytes().get(i) != 0;
      }
      return new ColumnData.Booleans(v, new BitSet(n));
    }
    if (t.isFloating()) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = b.getDouble(i);
      }
      return new ColumnData.Floats(t, v);
    }
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = b.getLong(i);
    }
    return new ColumnData.Integers(t, v, new BitSet(n));
  }

  private String[] strings(ContainerArray array, String name) {
    if (array.shape().length > 1 && array.rowWidth() != 1) {
      throw malformed(name, "expected a 1-D array of strings");
    }
    return array.readStrings();
  }

  static String join(String parent, String child) {
    return parent.isEmpty() ? child : parent + "/" + child;
  }

  private MalformedStoreException malformed(String element, String problem) {
    return new MalformedStoreException(file, element, problem);
  }
}
