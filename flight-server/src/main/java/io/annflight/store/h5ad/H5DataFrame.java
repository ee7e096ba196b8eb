package io.annflight.store.h5ad;

import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An anndata data frame group: the index (the dataset the {@code _index} attribute names) is read
 * when opened; columns are decoded on request, in {@code column-order}.
 */
final class H5DataFrame implements DataFrameReader {

  private final H5File file;
  private final String elementPath;
  private final Group group;
  private final List<String> index;
  private final List<String> columnNames;
  private final ColumnDecoder decoder;

  H5DataFrame(H5File file, String elementPath) {
    this.file = file;
    this.elementPath = elementPath;
    this.group = file.requireGroup(elementPath, "a data frame group (encoding-type dataframe)");
    this.decoder = new ColumnDecoder(file);
    String enc = file.encodingType(group, elementPath).orElse("dataframe");
    if (!enc.equals("dataframe")) {
      throw new UnsupportedLayoutException(file.path(), elementPath,
          "has encoding-type '" + enc + "', expected dataframe");
    }
    String indexName = file.stringAttribute(group, elementPath, "_index").orElse("_index");
    String indexPath = elementPath + "/" + indexName;
    Dataset indexDs = file.requireDataset(indexPath, "the data frame's index (strings)");
    this.index = List.of(nullsToEmpty(decoder.strings(indexPath, indexDs)));
    this.columnNames = List.copyOf(columnOrder(indexName));
  }

  private static String[] nullsToEmpty(String[] s) {
    for (int i = 0; i < s.length; i++) {
      if (s[i] == null) {
        s[i] = "";
      }
    }
    return s;
  }

  private List<String> columnOrder(String indexName) {
    Object v = file.attribute(group, elementPath, "column-order").orElse(null);
    if (v == null) {
      // jhdf returns an empty column-order as null; h5py writes an empty one as float64 [].
      boolean present = file.guard(elementPath, "attribute 'column-order'",
          () -> group.getAttributes().containsKey("column-order"));
      return present ? List.of() : childColumns(indexName);
    }
    if (v instanceof String s) {
      return List.of(s);
    }
    if (v instanceof String[] a) {
      return Arrays.asList(a);
    }
    if (v.getClass().isArray() && java.lang.reflect.Array.getLength(v) == 0) {
      return List.of();
    }
    throw new MalformedStoreException(file.path(), elementPath,
        "has a 'column-order' attribute of " + v.getClass().getSimpleName()
            + ", expected an array of column names");
  }

  /** Without column-order (very old files), every child but the index is a column. */
  private List<String> childColumns(String indexName) {
    List<String> names = new ArrayList<>();
    for (String name : file.guard(elementPath, "the group's members",
        () -> group.getChildren().keySet())) {
      if (!name.equals(indexName) && !name.equals("__categories")) {
        names.add(name);
      }
    }
    return names;
  }

  @Override
  public String elementPath() {
    return elementPath;
  }

  @Override
  public long length() {
    return index.size();
  }

  @Override
  public List<String> index() {
    return index;
  }

  @Override
  public List<String> columnNames() {
    return columnNames;
  }

  @Override
  public ColumnData column(String name) {
    String path = elementPath + "/" + name;
    if (!columnNames.contains(name)) {
      throw new StoreNotFoundException(file.path(), path,
          "no such column (expected one of " + columnNames + ")");
    }
    Node node = file.require(path, "the column listed in column-order");
    ColumnData data = decoder.decode(path, node);
    if (data.length() != index.size()) {
      throw new MalformedStoreException(file.path(), path,
          "has " + data.length() + " values, expected " + index.size() + " (the index length)");
    }
    return data;
  }
}
