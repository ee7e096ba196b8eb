package io.annflight.store.h5ad;

import io.annflight.store.ColumnData;
import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.object.datatype.StringData;
import io.jhdf.object.datatype.VariableLength;
import java.lang.reflect.Array;
import java.util.BitSet;
import java.util.Optional;

/**
 * Decodes one data frame column in any encoding anndata writes to HDF5: plain numeric, boolean
 * and string arrays, categoricals (the 0.8 group and the legacy codes dataset whose
 * {@code categories} attribute references the categories dataset), and the nullable encodings.
 */
final class ColumnDecoder {

  private final H5File file;

  ColumnDecoder(H5File file) {
    this.file = file;
  }

  ColumnData decode(String path, Node node) {
    if (node instanceof Group group) {
      return decodeGroup(path, group);
    }
    Dataset ds = (Dataset) node;
    Optional<Object> legacyCategories = file.attribute(ds, path, "categories");
    if (legacyCategories.isPresent()) {
      return legacyCategorical(path, ds, legacyCategories.get());
    }
    return plain(path, ds);
  }

  private ColumnData decodeGroup(String path, Group group) {
    String enc = file.encodingType(group, path).orElse("<none>");
    return switch (enc) {
      case "categorical" -> {
        int[] codes = codes(path + "/codes", file.requireDataset(path + "/codes",
            "the categorical's codes"));
        String catPath = path + "/categories";
        ColumnData categories = plain(catPath, file.requireDataset(catPath,
            "the categorical's categories"));
        yield categorical(path, codes, categories, flag(group, path, "ordered"));
      }
      case "nullable-integer" -> {
        ColumnData values = plain(path + "/values", part(path, "values", "the integer values"));
        BitSet mask = mask(path, values.length());
        if (!(values instanceof ColumnData.Integers ints)) {
          throw malformed(path + "/values", "is not an integer array, expected one for "
              + "encoding-type nullable-integer");
        }
        yield new ColumnData.Integers(ints.type(), ints.values(), mask);
      }
      case "nullable-boolean" -> {
        ColumnData values = plain(path + "/values", part(path, "values", "the boolean values"));
        BitSet mask = mask(path, values.length());
        if (!(values instanceof ColumnData.Booleans bools)) {
          throw malformed(path + "/values", "is not a boolean array, expected one for "
              + "encoding-type nullable-boolean");
        }
        yield new ColumnData.Booleans(bools.values(), mask);
      }
      case "nullable-string-array" -> {
        String[] values = strings(path + "/values", part(path, "values", "the string values"));
        BitSet mask = mask(path, values.length);
        for (int i = mask.nextSetBit(0); i >= 0; i = mask.nextSetBit(i + 1)) {
          values[i] = null;
        }
        yield new ColumnData.Strings(values);
      }
      default -> throw new UnsupportedLayoutException(file.path(), path,
          "is a group with encoding-type '" + enc + "', expected categorical, nullable-integer, "
              + "nullable-boolean or nullable-string-array");
    };
  }

  private Dataset part(String path, String name, String what) {
    return file.requireDataset(path + "/" + name, what);
  }

  private BitSet mask(String path, int length) {
    String maskPath = path + "/mask";
    ColumnData mask = plain(maskPath, part(path, "mask", "the missing-value mask"));
    if (!(mask instanceof ColumnData.Booleans b) || b.length() != length) {
      throw malformed(maskPath, "expected a boolean mask of " + length + " entries");
    }
    BitSet set = new BitSet(length);
    for (int i = 0; i < length; i++) {
      set.set(i, b.values()[i]);
    }
    return set;
  }

  private ColumnData legacyCategorical(String path, Dataset codesDs, Object ref) {
    long address;
    if (ref instanceof Long l) {
      address = l;
    } else if (ref instanceof long[] a && a.length == 1) {
      address = a[0];
    } else {
      throw malformed(path, "has a 'categories' attribute of " + ref.getClass().getSimpleName()
          + ", expected an object reference to the categories dataset");
    }
    Node target = file.guard(path, "the categories its 'categories' attribute references",
        () -> file.hdf().getNodeByAddress(address));
    if (!(target instanceof Dataset catDs)) {
      throw malformed(path, "'categories' references a group, expected the categories dataset");
    }
    ColumnData categories = plain(path + " -> categories", catDs);
    // anndata 0.7 put 'ordered' on the categories dataset; accept it on the codes too.
    boolean ordered = file.attribute(codesDs, path, "ordered").isPresent()
        ? flag(codesDs, path, "ordered")
        : flag(catDs, path + " -> categories", "ordered");
    return categorical(path, codes(path, codesDs), categories, ordered);
  }

  private ColumnData categorical(String path, int[] codes, ColumnData categories,
      boolean ordered) {
    if (categories instanceof ColumnData.Categorical) {
      throw malformed(path, "has categorical categories, expected a plain array");
    }
    for (int i = 0; i < codes.length; i++) {
      if (codes[i] < -1 || codes[i] >= categories.length()) {
        throw malformed(path, "code " + codes[i] + " at row " + i + " is outside the "
            + categories.length() + " categories");
      }
    }
    return new ColumnData.Categorical(codes, categories, ordered);
  }

  private int[] codes(String path, Dataset ds) {
    ColumnData c = plain(path, ds);
    if (!(c instanceof ColumnData.Integers ints)) {
      throw malformed(path, "expected integer categorical codes");
    }
    int[] out = new int[ints.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) ints.values()[i];
    }
    return out;
  }

  /** A 1-D dataset of numbers, booleans or strings. */
  ColumnData plain(String path, Dataset ds) {
    long[] dims = file.guard(path, "the dataset shape", ds::getDimensionsAsLong);
    if (dims.length != 1) {
      throw malformed(path, "has " + dims.length + " dimensions, expected a 1-D column");
    }
    Object dt = file.guard(path, "the datatype", ds::getDataType);
    if (dt instanceof StringData || (dt instanceof VariableLength v && v.isVariableLengthString())) {
      return new ColumnData.Strings(strings(path, ds));
    }
    H5Array array = H5Array.of(file, path, ds);
    TypedBuffer b = array.readRange(0, array.nRows);
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

  String[] strings(String path, Dataset ds) {
    return file.guard(path, "the strings", () -> {
      if (ds.getSize() == 0) {
        return new String[0];
      }
      Object data = ds.getData();
      if (data instanceof String[] s) {
        return s;
      }
      throw malformed(path, "holds " + data.getClass().getSimpleName()
          + ", expected a 1-D array of strings");
    });
  }

  /** A boolean attribute ({@code ordered}); h5py writes numpy bools as an enum. */
  private boolean flag(Node node, String path, String name) {
    Object v = file.attribute(node, path, name).orElse(Boolean.FALSE);
    if (v.getClass().isArray() && Array.getLength(v) == 1) {
      v = Array.get(v, 0);
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return s.equalsIgnoreCase("true");
    }
    if (v instanceof Number num) {
      return num.longValue() != 0;
    }
    throw malformed(path, "has attribute '" + name + "' = " + v + ", expected a boolean");
  }

  private MalformedStoreException malformed(String path, String problem) {
    return new MalformedStoreException(file.path(), path, problem);
  }
}
