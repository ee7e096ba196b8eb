package io.annflight.store.anndata;

import io.annflight.store.ColumnData;
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
final class DataFrameGroup extends IndexedFrame {

  private final Container container;
  private final ContainerGroup group;
  private final Columns columns;

  private DataFrameGroup(Container container, String elementPath, ContainerGroup group,
      long length, java.util.function.Supplier<List<String>> index, List<String> columnNames) {
    super(elementPath, length, index, columnNames);
    this.container = container;
    this.group = group;
    this.columns = new Columns(container);
  }

  static DataFrameGroup open(Container container, String elementPath, ContainerGroup group) {
    Attributes attrs = group.attributes();
    String enc = attrs.encodingType().orElse("dataframe");
    if (!enc.equals("dataframe")) {
      throw new UnsupportedLayoutException(container.path(), elementPath,
          "has encoding-type '" + enc + "', expected dataframe");
    }
    String indexName = attrs.string("_index").orElse("_index");
    ContainerNode indexNode = child(container, group, elementPath, indexName,
        "the data frame's index");
    Columns columns = new Columns(container);
    String indexPath = elementPath + "/" + indexName;
    long length = columns.length(indexNode, indexPath);
    List<String> columnNames = attrs.strings("column-order")
        .orElseGet(() -> childColumns(group, indexName));
    return new DataFrameGroup(container, elementPath, group, length,
        () -> List.of(Labels.asStrings(columns.decode(group.path(), indexNode, indexPath))),
        columnNames);
  }

  private static ContainerNode child(Container container, ContainerGroup group,
      String elementPath, String name, String what) {
    return container.find(Columns.join(group.path(), name)).orElseThrow(
        () -> new StoreNotFoundException(container.path(), elementPath + "/" + name,
            "missing (expected " + what + ")"));
  }

  /** Without column-order (anndata before 0.7), every child but the index is a column. */
  private static List<String> childColumns(ContainerGroup group, String indexName) {
    List<String> names = new ArrayList<>();
    for (String name : group.children()) {
      if (!name.equals(indexName) && !name.equals("__categories")) {
        names.add(name);
      }
    }
    return names;
  }

  @Override
  public ColumnData column(String name) {
    Path file = container.path();
    String path = elementPath() + "/" + name;
    if (!columnNames().contains(name)) {
      throw new StoreNotFoundException(file, path,
          "no such column (expected one of " + columnNames() + ")");
    }
    ColumnData data = columns.decode(group.path(), child(container, group, elementPath(), name,
        "the column listed in column-order"), path);
    if (data.length() != length()) {
      throw new MalformedStoreException(file, path,
          "has " + data.length() + " values, expected " + length() + " (the index length)");
    }
    return data;
  }
}
