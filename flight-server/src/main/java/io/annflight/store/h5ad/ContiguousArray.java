package io.annflight.store.h5ad;

import io.jhdf.api.dataset.ContiguousDataset;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A contiguous dataset, read with positional reads of the file channel straight into the
 * output. The file is never mapped: a file truncated or rewritten under a running server must
 * fail the read with an error, and a mapping would instead hand native code (codecs, the
 * network) pages that the file system can take away.
 */
final class ContiguousArray extends H5Array {

  /** -1 when the dataset was never written: every element is the fill value (zero). */
  private final long address;

  ContiguousArray(
      H5File file, String elementPath, StoredType stored, long nRows, int rowWidth,
      ContiguousDataset ds) {
    super(file, elementPath, stored, nRows, rowWidth);
    this.address = ds.isEmpty() ? -1 : ds.getDataAddress();
    long byteLength = Math.multiplyExact(nRows, (long) rowBytes);
    if (address >= 0) {
      file.checkInFile(elementPath, address, byteLength);
    }
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    readRun(start, stop - start, out, 0);
  }

  /**
   * Reads rows {@code [start, stop)} as stored into {@code dst} from its position, when the
   * stored bytes are little-endian (the order Arrow sends); false, with nothing read, otherwise.
   */
  boolean readLittleEndianRange(long start, long stop, ByteBuffer dst) {
    if (stored.order() != ByteOrder.LITTLE_ENDIAN && stored.type().byteWidth() > 1) {
      return false;
    }
    long length = (stop - start) * rowBytes;
    if (length > dst.remaining()) {
      throw new IllegalArgumentException(
          "rows [" + start + ", " + stop + ") need " + length + " bytes, the buffer holds "
              + dst.remaining());
    }
    ByteBuffer target = dst.duplicate();
    target.limit(target.position() + (int) length);
    if (address < 0) {
      while (target.hasRemaining()) {
        target.put((byte) 0);
      }
    } else {
      file.readFully(elementPath, address + start * rowBytes, target);
    }
    return true;
  }

  @Override
  void fillRows(long[] rows, ByteBuffer out) {
    int i = 0;
    while (i < rows.length) {
      if (i > 0 && rows[i] == rows[i - 1]) {
        System.arraycopy(out.array(), (i - 1) * rowBytes, out.array(), i * rowBytes, rowBytes);
        i++;
        continue;
      }
      int j = i + 1;
      while (j < rows.length && rows[j] == rows[j - 1] + 1) {
        j++;
      }
      readRun(rows[i], j - i, out, i);
      i = j;
    }
  }

  private void readRun(long firstRow, long count, ByteBuffer out, int outRow) {
    if (address < 0) {
      return; // never written: the zero-filled buffer is the value
    }
    ByteBuffer dst = out.duplicate();
    dst.limit((int) ((outRow + count) * rowBytes)).position(outRow * rowBytes);
    file.readFully(elementPath, address + firstRow * rowBytes, dst);
  }
}
