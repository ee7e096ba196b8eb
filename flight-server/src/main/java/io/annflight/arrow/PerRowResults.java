package io.annflight.arrow;

import io.annflight.collection.LabelWeights;
import io.annflight.collection.MergedLabels;
import io.annflight.schema.ArrowTypes;
import io.annflight.schema.ElementType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.util.List;
import java.util.function.Consumer;
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

/**
 * Per-observation action results as one Arrow IPC stream with one column, written a record
 * batch at a time and handed out in pieces of about {@link #PIECE_BYTES}: the pieces,
 * concatenated, are the stream (an answer that fits one piece is one piece). Memory stays at a
 * batch and a piece, however many rows the collection has.
 */
public final class PerRowResults {
  private PerRowResults() {}

  /** Rows of one record batch. */
  static final int BATCH_ROWS = 1 << 16;

  /** Bytes of the stream handed out at a time (one DoAction result each). */
  public static final int PIECE_BYTES = 4 << 20;

  /** Labels (as get_merged_labels returns them) in a column named {@code name}. */
  public static void write(String name, MergedLabels labels, BufferAllocator allocator,
      Consumer<byte[]> pieces) {
    Field field = new Field(name, FieldType.nullable(ArrowTypes.of(labels.type())), null);
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(field)), allocator);
        Pieces out = new Pieces(root, pieces)) {
      FieldVector v = root.getVector(0);
      labels.forEachChunk(BATCH_ROWS, (reader, locals, n) -> {
        v.clear();
        v.setInitialCapacity(n);
        v.allocateNew();
        for (int i = 0; i < n; i++) {
          int slot = reader.slot(locals[i]);
          if (slot < 0) {
            v.setNull(i);
          } else if (v instanceof VarCharVector vc) {
            vc.setSafe(i, reader.utf8At(slot));
          } else if (v instanceof BigIntVector b) {
            b.set(i, reader.longAt(slot));
          } else if (v instanceof Float8Vector f) {
            f.set(i, reader.doubleAt(slot));
          } else {
            ((BitVector) v).set(i, reader.boolAt(slot) ? 1 : 0);
          }
        }
        root.setRowCount(n);
        out.batch();
      });
      out.finish();
    }
  }

  /** Label weights in a float64 column named {@code name}. */
  public static void write(String name, LabelWeights weights, BufferAllocator allocator,
      Consumer<byte[]> pieces) {
    Field field = new Field(name, FieldType.notNullable(ArrowTypes.of(ElementType.FLOAT64)),
        null);
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(field)), allocator);
        Pieces out = new Pieces(root, pieces)) {
      Float8Vector v = (Float8Vector) root.getVector(0);
      weights.forEachWeight((w, n) -> {
        v.clear();
        v.allocateNew(n);
        for (int i = 0; i < n; i++) {
          v.set(i, w[i]);
        }
        root.setRowCount(n);
        out.batch();
      });
      out.finish();
    }
  }

  /** The IPC stream of one root, cut into pieces as it grows. */
  private static final class Pieces implements AutoCloseable {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final ArrowStreamWriter writer;
    private final Consumer<byte[]> pieces;

    Pieces(VectorSchemaRoot root, Consumer<byte[]> pieces) {
      this.pieces = pieces;
      this.writer = new ArrowStreamWriter(root, null, Channels.newChannel(buffer));
      try {
        writer.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void batch() {
      try {
        writer.writeBatch();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (buffer.size() >= PIECE_BYTES) {
        pieces.accept(buffer.toByteArray());
        buffer.reset();
      }
    }

    /** Ends the stream and hands out its last piece. */
    void finish() {
      try {
        writer.end();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      pieces.accept(buffer.toByteArray());
    }

    @Override
    public void close() {
      writer.close();
    }
  }
}
