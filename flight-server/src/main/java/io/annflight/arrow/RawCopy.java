package io.annflight.arrow;

import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * Same-type copies of little-endian values into an Arrow data buffer by address. The hot loops
 * of a batch (one store value per non-zero, one row copy per dense row) would otherwise pay
 * ArrowBuf's per-call bounds and reference checks; here bounds are checked once per row and
 * every element index is checked against the row's width.
 */
final class RawCopy {
  private RawCopy() {}

  /** Whether values of this buffer can be copied as raw bits into an output of its type. */
  static boolean applies(TypedBuffer values) {
    int w = values.type().byteWidth();
    return values.bytes().order() == ByteOrder.LITTLE_ENDIAN
        && (w == 1 || w == 2 || w == 4 || w == 8)
        && values.type() != io.annflight.schema.ElementType.BOOL;
  }

  /** Copies {@code length} elements from element {@code from} of src to element {@code to}. */
  static void copy(TypedBuffer src, int from, ArrowBuf dst, long to, int length) {
    int bw = src.type().byteWidth();
    long bytes = (long) length * bw;
    long dstOffset = to * bw;
    checkDst(dst, dstOffset, bytes);
    ByteBuffer b = src.bytes();
    long srcOffset = (long) from * bw;
    if (srcOffset + bytes > b.capacity()) {
      throw new IndexOutOfBoundsException("source elements [" + from + ", " + (from + length)
          + ") beyond " + b.capacity() / bw);
    }
    long address = dst.memoryAddress() + dstOffset;
    if (b.hasArray()) {
      MemoryUtil.copyToMemory(b.array(), b.arrayOffset() + srcOffset, address, bytes);
    } else if (b.isDirect()) {
      MemoryUtil.copyMemory(MemoryUtil.getByteBufferAddress(b) + srcOffset, address, bytes);
    } else {
      ByteBuffer d = b.duplicate();
      d.limit((int) (srcOffset + bytes)).position((int) srcOffset);
      dst.setBytes(dstOffset, d);
    }
  }

  /**
   * Scatters every row of a sparse block at once: row k's entries go to the output row at
   * {@code rowStart[positions[k]]}: entry e to element {@code map(columns[e])} of it (map is
   * identity when null and drops columns mapped to -1), each checked to lie in the row. One call per block
   * keeps the hot loop in one method, so the JIT compiles it within the first batch of a fresh
   * server (a call per row would wait for thousands of calls); the common case, 4-byte values
   * without a variable map, has a loop of its own.
   */
  static void scatterRows(TypedBuffer src, int[] columns, int[] offsets, int[] positions,
      long[] rowStart, int[] map, ArrowBuf dst, int rowWidth) {
    int bw = src.type().byteWidth();
    int nRows = positions.length;
    int hi = offsets[nRows];
    if (hi > src.length() || hi > columns.length) {
      throw new IndexOutOfBoundsException("sparse entries up to " + hi + " beyond "
          + Math.min(src.length(), columns.length));
    }
    for (int k = 0; k < nRows; k++) {
      checkDst(dst, rowStart[positions[k]] * bw, (long) rowWidth * bw);
    }
    ByteBuffer b = src.bytes();
    long address = dst.memoryAddress();
    if (bw == 4 && map == null) {
      for (int k = 0; k < nRows; k++) {
        long base = address + rowStart[positions[k]] * 4;
        for (int e = offsets[k]; e < offsets[k + 1]; e++) {
          int c = columns[e];
          if (c < 0 || c >= rowWidth) {
            throw new IndexOutOfBoundsException("column " + c + " outside a row of " + rowWidth);
          }
          MemoryUtil.putInt(base + (long) c * 4, b.getInt(e * 4));
        }
      }
      return;
    }
    for (int k = 0; k < nRows; k++) {
      long base = address + rowStart[positions[k]] * bw;
      for (int e = offsets[k]; e < offsets[k + 1]; e++) {
        int c = map == null ? columns[e] : map[columns[e]];
        if (c < 0) {
          continue; // dropped by an inner join
        }
        if (c >= rowWidth) {
          throw new IndexOutOfBoundsException("column " + c + " outside a row of " + rowWidth);
        }
        long at = base + (long) c * bw;
        switch (bw) {
          case 4 -> MemoryUtil.putInt(at, b.getInt(e * 4));
          case 8 -> MemoryUtil.putLong(at, b.getLong(e * 8));
          case 2 -> MemoryUtil.putShort(at, b.getShort(e * 2));
          default -> MemoryUtil.putByte(at, b.get(e));
        }
      }
    }
  }

  private static void checkDst(ArrowBuf dst, long offset, long bytes) {
    if (offset < 0 || offset + bytes > dst.capacity()) {
      throw new IndexOutOfBoundsException("bytes [" + offset + ", " + (offset + bytes)
          + ") outside a buffer of " + dst.capacity());
    }
  }
}
