package io.annflight.store;

import io.annflight.schema.ElementType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A run of numeric values in their stored type, backed by a byte buffer whose byte order is set.
 * Element {@code i} starts at byte {@code i * type.byteWidth()} from position 0 of {@code bytes}.
 * Readers hand decoded chunk bytes out in this form so the engine can bulk-copy them when the
 * stored and requested types agree, and convert element-wise only when they do not.
 *
 * <p>The bytes are never changed after a reader hands them out (file mappings, cached chunks
 * and fresh buffers alike), so a consumer may keep them: read-only direct views of a file
 * mapping are sent as they are, without a copy.
 */
public record TypedBuffer(ElementType type, ByteBuffer bytes, int length) {

  public TypedBuffer {
    if ((long) length * type.byteWidth() > bytes.capacity()) {
      throw new IllegalArgumentException(
          "buffer of " + bytes.capacity() + " bytes is too small for " + length + " " + type);
    }
  }

  /** Allocates a little-endian heap buffer for {@code length} elements. */
  public static TypedBuffer allocate(ElementType type, int length) {
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(length, type.byteWidth()));
    return new TypedBuffer(type, b.order(ByteOrder.LITTLE_ENDIAN), length);
  }

  public boolean isLittleEndian() {
    return bytes.order() == ByteOrder.LITTLE_ENDIAN;
  }

  public double getDouble(int i) {
    int at = i * type.byteWidth();
    return switch (type) {
      case BOOL -> bytes.get(at) != 0 ? 1.0 : 0.0;
      case INT8 -> bytes.get(at);
      case UINT8 -> bytes.get(at) & 0xFF;
      case INT16 -> bytes.getShort(at);
      case UINT16 -> bytes.getShort(at) & 0xFFFF;
      case INT32 -> bytes.getInt(at);
      case UINT32 -> bytes.getInt(at) & 0xFFFFFFFFL;
      case INT64 -> bytes.getLong(at);
      case UINT64 -> unsignedToDouble(bytes.getLong(at));
      case FLOAT32 -> bytes.getFloat(at);
      case FLOAT64 -> bytes.getDouble(at);
    };
  }

  /** Integer value of element i (floats are truncated toward zero, as numpy's astype does). */
  public long getLong(int i) {
    int at = i * type.byteWidth();
    return switch (type) {
      case BOOL -> bytes.get(at) != 0 ? 1 : 0;
      case INT8 -> bytes.get(at);
      case UINT8 -> bytes.get(at) & 0xFF;
      case INT16 -> bytes.getShort(at);
      case UINT16 -> bytes.getShort(at) & 0xFFFF;
      case INT32 -> bytes.getInt(at);
      case UINT32 -> bytes.getInt(at) & 0xFFFFFFFFL;
      case INT64, UINT64 -> bytes.getLong(at);
      case FLOAT32 -> (long) bytes.getFloat(at);
      case FLOAT64 -> (long) bytes.getDouble(at);
    };
  }

  private static double unsignedToDouble(long v) {
    double d = (double) (v >>> 1) * 2.0;
    return d + (v & 1);
  }
}
