package io.annflight.schema;

import java.util.List;
import org.apache.arrow.vector.types.pojo.Schema;

/** The columns of a request's record batches, known before any row is read. */
public record OutputSchema(List<OutputColumn> columns) {
  public OutputSchema {
    columns = List.copyOf(columns);
  }

  public Schema toArrow() {
    return new Schema(columns.stream().map(OutputColumn::field).toList());
  }
}
