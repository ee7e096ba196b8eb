package io.annflight.store.anndata;

import io.annflight.store.ColumnData;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A data frame as anndata up to 0.6 wrote it: one compound (record) array (an HDF5 compound
 * dataset, or a Zarr array of a structured dtype) whose field {@code index} (or
 * {@code _index}) is the index and whose other fields are the columns. A column is categorical
 * when {@code uns/<column>_categories} holds its categories (its values are then the codes), as
 * anndata 0.8 reads these files.
 */
final class CompoundFrame extends IndexedFrame {

  /** The index field's names, in the order they are looked for (lamindb reads both). */
  static final List<String> INDEX_FIELDS = List.of("index", "_index");

  private final Container container;
  private final String unsPath;
  private final ContainerArray records;
  private final Columns columns;

  private CompoundFrame(Container container, String elementPath, ContainerArray records,
      String unsPath, String indexField, List<String> columnNames) {
    // The index is decoded on first use (opening a store reads no rows).
    super(elementPath, records.nRows(), () -> List.of(Labels.asStrings(new Columns(container)
        .plain(records.field(indexField), elementPath + "." + indexField))), columnNames);
    this.container = container;
    this.records = records;
    this.unsPath = unsPath;
    this.columns = new Columns(container);
  }

  /**
   * @param unsPath the {@code uns} group that holds {@code <column>_categories}
   */
  static CompoundFrame open(Container container, String elementPath, ContainerArray records,
      String unsPath) {
    List<String> fields = records.fieldNames();
    String indexField = INDEX_FIELDS.stream().filter(fields::contains).findFirst()
        .orElseThrow(() -> new MalformedStoreException(container.path(), elementPath, "is a"
            + " compound dataset without an 'index' or '_index' field (fields: " + fields
            + "), expected an anndata <= 0.6 frame"));
    List<String> names = new ArrayList<>(fields);
    names.remove(indexField);
    return new CompoundFrame(container, elementPath, records, unsPath, indexField, names);
  }

  @Override
  public ColumnData column(String name) {
    String path = elementPath() + "." + name;
    if (!columnNames().contains(name)) {
      throw new StoreNotFoundException(container.path(), elementPath() + "/" + name,
          "no such column (expected one of " + columnNames() + ")");
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
