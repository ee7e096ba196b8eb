package io.annflight.collection;

import io.annflight.schema.OutputColumn;
import java.util.List;
import java.util.Optional;

/**
 * One obs output column: encoded through {@code encoding}, or plain values.
 *
 * @param encoding null when the key is not encoded
 * @param plain per store, the labels in the wire type (empty when the store lacks the key or
 *     the key is encoded)
 */
public record LabelColumnPlan(
    OutputColumn.Label column, LabelEncoding encoding, List<Optional<PlainLabels>> plain) {

  public boolean encoded() {
    return encoding != null;
  }
}
