package io.annflight.arrow;

import io.annflight.schema.ElementType;
import io.annflight.schema.OutputColumn;
import io.annflight.schema.OutputSchema;

/**
 * Default batch size: about 8 MiB of values per batch (8-16 MiB measured best for Flight on
 * this kind of machine; larger batches halved throughput).
 */
public final class BatchSizing {
  static final long TARGET_BYTES = 8L << 20;
  static final int MIN_ROWS = 64;
  static final int MAX_ROWS = 65_536;
  /** Assumed row width of variable-width list columns, whose width is not known in advance. */
  static final int ASSUMED_VARIABLE_WIDTH = 2_000;

  private BatchSizing() {}

  public static int defaultRowsPerBatch(OutputSchema schema) {
    return rowsFor(schema, TARGET_BYTES);
  }

  /** About how many bytes a batch of {@code rows} rows takes (list columns: assumed widths). */
  public static long bytesPerBatch(OutputSchema schema, int rows) {
    return bytesPerRow(schema) * rows;
  }

  static int rowsFor(OutputSchema schema, long targetBytes) {
    long rows = targetBytes / Math.max(1, bytesPerRow(schema));
    return (int) Math.max(MIN_ROWS, Math.min(MAX_ROWS, rows));
  }

  private static long bytesPerRow(OutputSchema schema) {
    long bytesPerRow = 0;
    for (OutputColumn c : schema.columns()) {
      if (c instanceof OutputColumn.Matrix m) {
        long width = m.width() == null ? ASSUMED_VARIABLE_WIDTH : m.width();
        bytesPerRow += width * (m.type() == ElementType.BOOL ? 1 : m.type().byteWidth()) + 4;
      } else {
        bytesPerRow += 8;
      }
    }
    return bytesPerRow;
  }
}
