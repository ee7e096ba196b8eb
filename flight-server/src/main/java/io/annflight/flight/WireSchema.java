package io.annflight.flight;

import io.annflight.schema.ArrowTypes;
import io.annflight.schema.OutputColumn;
import io.annflight.schema.OutputSchema;
import java.util.List;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The schema as it travels in FlightInfo and GetSchema: IPC "message format", where a
 * dictionary-encoded field carries the dictionary's value type (in memory it carries the index
 * type). Sending the in-memory form makes clients see encoded labels as plain int32.
 */
public final class WireSchema {
  private WireSchema() {}

  public static Schema of(OutputSchema schema) {
    return new Schema(schema.columns().stream().map(WireSchema::field).toList());
  }

  /** A column's type as describe shows it, e.g. {@code FixedSizeList(2000)<float32>}. */
  public static String describe(OutputColumn c) {
    Field f = field(c);
    String type = f.getType().toString();
    if (!f.getChildren().isEmpty()) {
      type += "<" + f.getChildren().get(0).getType() + ">";
    }
    return f.getDictionary() == null ? type : "Dictionary<int32, " + type + ">";
  }

  private static Field field(OutputColumn c) {
    if (c instanceof OutputColumn.Label l && l.encoded()) {
      Field memory = l.field();
      return new Field(l.name(), new FieldType(memory.isNullable(), ArrowTypes.of(l.valueType()),
          memory.getDictionary()), List.of());
    }
    return c.field();
  }
}
