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
 * A data frame as anndata up to 0.6 wrote it: one compound (record) array whose field
 * {@code index} is the index and whose other fields are the columns. A column is categorical
 * when {@code uns/<column>_categories} holds its categories (its values are then the codes), as
 * anndata 0.8 reads these files.
 */
final class CompoundFrame extends IndexedFrame {

  static final String INDEX_FIELD = "index";

  private final Container container;
  private final String unsPath;
  private final ContainerArray records;
  private final Columns columns;

  private CompoundFrame(Container container, String elementPath, ContainerArray records,
      String unsPath, List<String> columnNames) {
    super(elementPath, records.nRows(), () -> List.of(Labels.asStrings(new Columns(container)
        .plain(records.field(INDEX_FIELD), elementPath + "." + INDEX_FIELD))), columnNames);
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
    if (!fields.contains(INDEX_FIELD)) {
      throw new MalformedStoreException(container.path(), elementPath, "is a compound dataset"
          + " without an '" + INDEX_FIELD + "' field (fields: " + fields + "), expected an"
          + " anndata <= 0.6 frame");
    }
    List<String> names = new ArrayList<>(fields);
    names.remove(INDEX_FIELD);
    return new CompoundFrame(container, elementPath, records, unsPath, names);
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
