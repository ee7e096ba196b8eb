package io.annflight.arrow;

import io.annflight.collection.LabelValues;
import io.annflight.schema.ArrowTypes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/** Per-observation action results as one Arrow IPC stream with one column. */
public final class PerRowResults {
  private PerRowResults() {}

  /** Labels (as get_merged_labels returns them) in a column named {@code name}. */
  public static byte[] write(String name, LabelValues labels, BufferAllocator allocator) {
    Field field = new Field(name, FieldType.nullable(ArrowTypes.of(labels.type())), null);
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(field)), allocator)) {
      FieldVector v = root.getVector(0);
      List<Object> values = labels.values();
      int n = values.size();
      v.setInitialCapacity(n);
      v.allocateNew();
      for (int i = 0; i < n; i++) {
        Object x = values.get(i);
        if (x == null) {
          v.setNull(i);
        } else if (v instanceof VarCharVector vc) {
          vc.setSafe(i, ((String) x).getBytes(StandardCharsets.UTF_8));
        } else if (v instanceof BigIntVector b) {
          b.setSafe(i, (Long) x);
        } else if (v instanceof Float8Vector f) {
          f.setSafe(i, (Double) x);
        } else {
          ((BitVector) v).setSafe(i, (Boolean) x ? 1 : 0);
        }
      }
      root.setRowCount(n);
      return toIpc(root);
    }
  }

  /** Float64 values (e.g. label weights) in a column named {@code name}. */
  public static byte[] write(String name, double[] values, BufferAllocator allocator) {
    Field field = new Field(name, FieldType.notNullable(ArrowTypes.of(
        io.annflight.schema.ElementType.FLOAT64)), null);
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(field)), allocator)) {
      Float8Vector v = (Float8Vector) root.getVector(0);
      v.allocateNew(values.length);
      for (int i = 0; i < values.length; i++) {
        v.set(i, values[i]);
      }
      root.setRowCount(values.length);
      return toIpc(root);
    }
  }

  private static byte[] toIpc(VectorSchemaRoot root) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      w.writeBatch();
      w.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
