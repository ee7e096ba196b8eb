package io.annflight.store.anndata;

import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Attributes;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.container.ContainerNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An anndata data frame group ({@code encoding-type: dataframe}, or none before anndata 0.8):
 * the index is the child the {@code _index} attribute names (any column encoding, a
 * {@code nullable-string-array} included); columns are decoded on request, in
 * {@code column-order}.
 */
final class DataFrameGroup implements DataFrameReader {

  private final Container container;
  private final Path file;
  private final String elementPath;
  private final ContainerGroup group;
  private final List<String> index;
  private final List<String> columnNames;
  private final Columns columns;

  DataFrameGroup(Container container, String elementPath, ContainerGroup group) {
    this.container = container;
    this.file = container.path();
    this.elementPath = elementPath;
    this.group = group;
    this.columns = new Columns(container);
    Attributes attrs = group.attributes();
    String enc = attrs.encodingType().orElse("dataframe");
    if (!enc.equals("dataframe")) {
      throw new UnsupportedLayoutException(file, elementPath,
          "has encoding-type '" + enc + "', expected dataframe");
    }
    String indexName = attrs.string("_index").orElse("_index");
    ContainerNode indexNode = child(indexName, "the data frame's index");
    this.index = List.of(Labels.asStrings(
        columns.decode(group.path(), indexNode, elementPath + "/" + indexName)));
    this.columnNames = List.copyOf(attrs.strings("column-order")
        .orElseGet(() -> childColumns(indexName)));
  }

  private ContainerNode child(String name, String what) {
    return container.find(Columns.join(group.path(), name)).orElseThrow(
        () -> new StoreNotFoundException(file, elementPath + "/" + name,
            "missing (expected " + what + ")"));
  }

  /** Without column-order (anndata before 0.7), every child but the index is a column. */
  private List<String> childColumns(String indexName) {
    List<String> names = new ArrayList<>();
    for (String name : group.children()) {
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
      throw new StoreNotFoundException(file, path,
          "no such column (expected one of " + columnNames + ")");
    }
    ColumnData data = columns.decode(group.path(), child(name, "the column listed in "
        + "column-order"), path);
    if (data.length() != index.size()) {
      throw new MalformedStoreException(file, path,
          "has " + data.length() + " values, expected " + index.size() + " (the index length)");
    }
    return data;
  }
}
