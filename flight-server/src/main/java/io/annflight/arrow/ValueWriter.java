package io.annflight.arrow;

import io.annflight.schema.ElementType;
import io.annflight.store.TypedBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BitVectorHelper;

/**
 * Writes one stored value into an Arrow data buffer in the output type, converting as numpy's
 * {@code astype} does (floats to integers truncate, anything non-zero to bool is true).
 * Chosen once per (stored type, output type) pair so the hot loops stay monomorphic.
 */
@FunctionalInterface
interface ValueWriter {

  /** Writes element {@code srcIndex} of {@code src} at element {@code dstIndex} of {@code dst}. */
  void write(TypedBuffer src, int srcIndex, ArrowBuf dst, long dstIndex);

  static ValueWriter of(ElementType from, ElementType to) {
    if (from == to) {
      return sameType(to);
    }
    return switch (to) {
      case BOOL -> (s, i, d, j) -> BitVectorHelper.setValidityBit(d, (int) j,
          s.getDouble(i) != 0 ? 1 : 0);
      case INT8, UINT8 -> (s, i, d, j) -> d.setByte(j, (byte) integral(s, i));
      case INT16, UINT16 -> (s, i, d, j) -> d.setShort(j * 2, (short) integral(s, i));
      case INT32, UINT32 -> (s, i, d, j) -> d.setInt(j * 4, (int) integral(s, i));
      case INT64, UINT64 -> (s, i, d, j) -> d.setLong(j * 8, integral(s, i));
      case FLOAT32 -> (s, i, d, j) -> d.setFloat(j * 4, (float) s.getDouble(i));
      case FLOAT64 -> (s, i, d, j) -> d.setDouble(j * 8, s.getDouble(i));
    };
  }

  private static long integral(TypedBuffer s, int i) {
    return s.getLong(i);
  }

  private static ValueWriter sameType(ElementType t) {
    return switch (t) {
      case BOOL -> (s, i, d, j) -> BitVectorHelper.setValidityBit(d, (int) j,
          s.bytes().get(i) != 0 ? 1 : 0);
      case INT8, UINT8 -> (s, i, d, j) -> d.setByte(j, s.bytes().get(i));
      case INT16, UINT16 -> (s, i, d, j) -> d.setShort(j * 2, s.bytes().getShort(i * 2));
      case INT32, UINT32 -> (s, i, d, j) -> d.setInt(j * 4, s.bytes().getInt(i * 4));
      case INT64, UINT64 -> (s, i, d, j) -> d.setLong(j * 8, s.bytes().getLong(i * 8));
      case FLOAT32 -> (s, i, d, j) -> d.setFloat(j * 4, s.bytes().getFloat(i * 4));
      case FLOAT64 -> (s, i, d, j) -> d.setDouble(j * 8, s.bytes().getDouble(i * 8));
    };
  }
}
