package io.annflight.store.anndata;

import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A data frame as anndata up to 0.6 wrote it: one compound (record) array whose field
 * {@code index} is the index and whose other fields are the columns. A column is categorical
 * when {@code uns/<column>_categories} holds its categories (its values are then the codes), as
 * anndata 0.8 reads these files.
 */
final class CompoundFrame implements DataFrameReader {

  static final String INDEX_FIELD = "index";

  private final Container container;
  private final Path file;
  private final String elementPath;
  private final String unsPath;
  private final ContainerArray records;
  private final List<String> index;
  private final List<String> columnNames;
  private final Columns columns;

  /**
   * @param unsPath the {@code uns} group that holds {@code <column>_categories}
   */
  CompoundFrame(Container container, String elementPath, ContainerArray records, String unsPath) {
    this.container = container;
    this.file = container.path();
    this.elementPath = elementPath;
    this.records = records;
    this.unsPath = unsPath;
    this.columns = new Columns(container);
    List<String> fields = records.fieldNames();
    if (!fields.contains(INDEX_FIELD)) {
      throw new MalformedStoreException(file, elementPath, "is a compound dataset without an '"
          + INDEX_FIELD + "' field (fields: " + fields + "), expected an anndata <= 0.6 frame");
    }
    this.index = List.of(Labels.asStrings(columns.plain(records.field(INDEX_FIELD),
        elementPath + "." + INDEX_FIELD)));
    List<String> names = new ArrayList<>(fields);
    names.remove(INDEX_FIELD);
    this.columnNames = List.copyOf(names);
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
    String path = elementPath + "." + name;
    if (!columnNames.contains(name)) {
      throw new StoreNotFoundException(file, elementPath + "/" + name,
          "no such column (expected one of " + columnNames + ")");
    }
    ContainerArray field = records.field(name);
    Optional<ContainerNode> categories = container.find(Columns.join(unsPath,
        name + "_categories"));
    if (categories.isPresent() && categories.get() instanceof ContainerArray cats
        && field.kind() == ContainerArray.Kind.NUMERIC && field.elementType().isInteger()) {
      ColumnData values = columns.plain(cats, cats.path());
      return new ColumnData.Categorical(columns.codes(field, path, values.length()), values,
          false);
    }
    return columns.plain(field, path);
  }
}
