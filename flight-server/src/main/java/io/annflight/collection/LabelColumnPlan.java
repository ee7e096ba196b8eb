package io.annflight.collection;

import io.annflight.schema.OutputColumn;
import io.annflight.store.ColumnData;
import java.util.List;
import java.util.Optional;

/**
 * One obs output column: encoded through {@code encoding}, or plain values read from the
 * stores' columns.
 *
 * @param encoding null when the key is not encoded
 * @param columns per store, the column or empty when the store lacks the key
 */
public record LabelColumnPlan(
    OutputColumn.Label column, LabelEncoding encoding, List<Optional<ColumnData>> columns) {

  public boolean encoded() {
    return encoding != null;
  }
}
