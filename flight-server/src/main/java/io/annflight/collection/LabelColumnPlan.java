package io.annflight.collection;

import io.annflight.schema.OutputColumn;
import io.annflight.store.ColumnData;
import java.util.List;
import java.util.Optional;

/**
 * One obs output column: encoded through {@code encoding}, or plain values. Per-row data (the
 * column's codes or values) is not held here: {@link #column(int)} reads it from the obs cache.
 *
 * @param encoding null when the key is not encoded
 * @param plain per store, the labels in the wire type (empty when the store lacks the key or
 *     the key is encoded)
 * @param stores the plan's stores, whose obs column {@code column.name()} this is
 */
public record LabelColumnPlan(OutputColumn.Label column, LabelEncoding encoding,
    List<Optional<PlainLabels>> plain, List<StoreHandle> stores) {

  public boolean encoded() {
    return encoding != null;
  }

  /** Store {@code s}'s column of this key, or empty when it lacks the key. */
  public Optional<ColumnData> column(int s) {
    return stores.get(s).obsColumn(column.name());
  }
}
