package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** An anndata data frame group (encoding-type dataframe 0.1.0 or 0.2.0) in a Zarr store. */
final class ZarrDataFrame implements DataFrameReader {

  private final ZarrTree tree;
  private final String element;
  private final ZarrArray indexArray;
  private final List<String> columnNames;
  private final ZarrColumns columns;
  private volatile List<String> index;

  ZarrDataFrame(ZarrTree tree, String element) {
    this.tree = tree;
    this.element = element;
    if (tree.isArray(element)) {
      throw new UnsupportedLayoutException(
          tree.root(), element, "a data frame stored as one record array (anndata < 0.7) is not supported");
    }
    if (!tree.isGroup(element)) {
      throw new StoreNotFoundException(tree.root(), element, "expected a data frame group, found nothing");
    }
    JsonNode attrs = tree.attrs(element);
    String encoding = attrs.path("encoding-type").asText("dataframe");
    if (!encoding.equals("dataframe")) {
      throw new UnsupportedLayoutException(
          tree.root(), element, "expected encoding-type 'dataframe', found '" + encoding + "'");
    }
    JsonNode indexKey = attrs.get("_index");
    if (indexKey == null || !indexKey.isTextual()) {
      throw new MalformedStoreException(
          tree.root(), element, "expected an '_index' attribute naming the index column, found " + indexKey);
    }
    this.indexArray = tree.array(ZarrTree.join(element, indexKey.asText()));
    if (indexArray.rank() != 1) {
      throw new MalformedStoreException(tree.root(), indexArray.element(), "expected a 1-d index array");
    }
    this.columnNames = Collections.unmodifiableList(columnOrder(attrs.get("column-order")));
    this.columns = new ZarrColumns(tree);
  }

  private List<String> columnOrder(JsonNode order) {
    List<String> names = new ArrayList<>();
    if (order == null || order.isNull()) {
      throw new MalformedStoreException(
          tree.root(), element, "expected a 'column-order' attribute (list of column names)");
    }
    if (order.isTextual()) {
      names.add(order.asText());
      return names;
    }
    if (!order.isArray()) {
      throw new MalformedStoreException(
          tree.root(), element, "'column-order' must be a list of names, found " + order);
    }
    for (JsonNode n : order) {
      if (!n.isTextual()) {
        throw new MalformedStoreException(
            tree.root(), element, "'column-order' must be a list of names, found " + order);
      }
      names.add(n.asText());
    }
    return names;
  }

  @Override
  public String elementPath() {
    return element;
  }

  @Override
  public long length() {
    return indexArray.length();
  }

  @Override
  public List<String> index() {
    List<String> i = index;
    if (i == null) {
      i = Collections.unmodifiableList(Arrays.asList(readIndex()));
      index = i;
    }
    return i;
  }

  private String[] readIndex() {
    if (!indexArray.isNumeric()) {
      return indexArray.readAllStrings();
    }
    // pandas keeps a numeric index numeric; its labels as text are what users match on.
    ColumnData c = columns.plain(indexArray, null);
    String[] out = new String[c.length()];
    for (int r = 0; r < out.length; r++) {
      if (c instanceof ColumnData.Integers ints) {
        out[r] = Long.toString(ints.values()[r]);
      } else if (c instanceof ColumnData.Floats f) {
        out[r] = Double.toString(f.values()[r]);
      } else if (c instanceof ColumnData.Booleans b) {
        out[r] = b.values()[r] ? "True" : "False";
      }
    }
    return out;
  }

  @Override
  public List<String> columnNames() {
    return columnNames;
  }

  @Override
  public ColumnData column(String name) {
    if (!columnNames.contains(name)) {
      throw new StoreNotFoundException(
          tree.root(), ZarrTree.join(element, name), "no such column; columns are " + columnNames);
    }
    String path = ZarrTree.join(element, name);
    ColumnData data = columns.read(element, path);
    if (data.length() != length()) {
      throw new MalformedStoreException(
          tree.root(), path, "column has " + data.length() + " rows, the index has " + length());
    }
    return data;
  }
}
