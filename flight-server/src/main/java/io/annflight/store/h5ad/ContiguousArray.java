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

  /** Rows at most this far apart in the file are read as one span (see readLittleEndianRowsTo). */
  private static final long MERGE_GAP_BYTES = 16 << 10;
  /** Largest span read at once; one direct buffer of this size per reading thread. */
  private static final int STAGING_BYTES = 1 << 20;
  private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

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
   * Reads each row as stored to its own place in {@code dst}; false, with nothing read, when
   * the stored bytes are not little-endian. Rows consecutive both in the file and in
   * {@code dst} go in one positional read; rows near each other in the file (gaps of at most
   * {@link #MERGE_GAP_BYTES}) are read as one span into a staging buffer and copied to their
   * places, since a system call costs about what copying that many bytes does (a shuffled
   * batch of small obsm rows is otherwise one read per row).
   */
  boolean readLittleEndianRowsTo(long[] rows, long[] dstOffsets, ByteBuffer dst) {
    if (stored.order() != ByteOrder.LITTLE_ENDIAN && stored.type().byteWidth() > 1) {
      return false;
    }
    long gapRows = rowBytes == 0 ? 0 : MERGE_GAP_BYTES / rowBytes;
    int i = 0;
    while (i < rows.length) {
      int j = i + 1;
      while (j < rows.length && rows[j] == rows[j - 1] + 1
          && dstOffsets[j] == dstOffsets[j - 1] + rowBytes) {
        j++;
      }
      if (j > i + 1) {
        readSpan(rows[i], j - i, dst, dstOffsets[i]); // in place, however long
        i = j;
        continue;
      }
      while (j < rows.length && rows[j] - rows[j - 1] <= gapRows + 1
          && (rows[j] - rows[i] + 1) * rowBytes <= STAGING_BYTES) {
        j++;
      }
      if (j == i + 1) {
        readSpan(rows[i], 1, dst, dstOffsets[i]);
      } else {
        ByteBuffer staging = staging();
        readSpan(rows[i], rows[j - 1] - rows[i] + 1, staging, 0);
        for (int k = i; k < j; k++) {
          checkDst(dst, dstOffsets[k], rowBytes);
          dst.put((int) dstOffsets[k], staging, (int) ((rows[k] - rows[i]) * rowBytes), rowBytes);
        }
      }
      i = j;
    }
    return true;
  }

  /**
   * Rows {@code [start, stop)} as stored into {@code dst} from byte {@code at}, in one
   * positional read (into the destination's own memory when it is direct); false, with
   * nothing read, when the stored bytes are not little-endian.
   */
  boolean readLittleEndianRangeTo(long start, long stop, ByteBuffer dst, int at) {
    if (stored.order() != ByteOrder.LITTLE_ENDIAN && stored.type().byteWidth() > 1) {
      return false;
    }
    readSpan(start, stop - start, dst, at);
    return true;
  }

  /** {@code count} rows from {@code firstRow} into {@code dst} at byte {@code at}. */
  private void readSpan(long firstRow, long count, ByteBuffer dst, long at) {
    long length = count * rowBytes;
    checkDst(dst, at, length);
    ByteBuffer target = dst.duplicate();
    target.limit((int) (at + length)).position((int) at);
    if (address < 0) {
      while (target.hasRemaining()) {
        target.put((byte) 0);
      }
    } else {
      file.readFully(elementPath, address + firstRow * rowBytes, target);
    }
  }

  private static void checkDst(ByteBuffer dst, long at, long length) {
    if (at < 0 || at + length > dst.capacity()) {
      throw new IllegalArgumentException("rows to bytes [" + at + ", " + (at + length)
          + ") outside a buffer of " + dst.capacity());
    }
  }

  private static ByteBuffer staging() {
    ByteBuffer b = STAGING.get();
    if (b == null) {
      b = ByteBuffer.allocateDirect(STAGING_BYTES);
      STAGING.set(b);
    }
    return b;
  }

  /** A hint that rows {@code [start, stop)} will be read soon (see {@link H5File#prefetch}). */
  void prefetchRange(long start, long stop) {
    if (address >= 0 && stop > start) {
      file.prefetch(address + start * rowBytes, (stop - start) * rowBytes);
    }
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
