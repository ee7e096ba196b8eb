package io.annflight.store.h5ad;

import io.annflight.store.TypedBuffer;
import io.jhdf.api.dataset.ContiguousDataset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A contiguous dataset. Row ranges are handed out as read-only views of a file mapping (no copy
 * at all: the consumer's own copy is the only one); row lists, and ranges larger than a mapping
 * window, are read with positional reads straight into the output.
 */
final class ContiguousArray extends H5Array {

  /**
   * Mappings are windows of up to 2 x WINDOW bytes starting every WINDOW bytes, so any range of
   * at most WINDOW bytes lies inside the window that starts at or before it.
   */
  private static final long WINDOW = 256L << 20;

  /** -1 when the dataset was never written: every element is the fill value (zero). */
  private final long address;
  private final long byteLength;
  private final AtomicReferenceArray<ByteBuffer> windows;
  private volatile boolean mappingFailed;

  ContiguousArray(
      H5File file, String elementPath, StoredType stored, long nRows, int rowWidth,
      ContiguousDataset ds) {
    super(file, elementPath, stored, nRows, rowWidth);
    this.address = ds.isEmpty() ? -1 : ds.getDataAddress();
    this.byteLength = Math.multiplyExact(nRows, (long) rowBytes);
    if (address >= 0) {
      file.checkInFile(elementPath, address, byteLength);
    }
    this.windows = new AtomicReferenceArray<>((int) (byteLength / WINDOW) + 1);
  }

  @Override
  TypedBuffer readRange(long start, long stop) {
    long from = start * rowBytes;
    long length = (stop - start) * rowBytes;
    if (address < 0 || length == 0 || length > WINDOW || mappingFailed) {
      return super.readRange(start, stop);
    }
    int w = (int) (from / WINDOW);
    ByteBuffer window = window(w);
    if (window == null) {
      return super.readRange(start, stop);
    }
    ByteBuffer view = window.slice((int) (from - w * WINDOW), (int) length).order(stored.order());
    return typed(view, outputRows(stop - start));
  }

  private ByteBuffer window(int w) {
    ByteBuffer b = windows.get(w);
    if (b != null) {
      return b;
    }
    long from = w * WINDOW;
    long length = Math.min(2 * WINDOW, byteLength - from);
    try {
      MappedByteBuffer mapped =
          file.channel().map(FileChannel.MapMode.READ_ONLY, file.fileOffset(address) + from, length);
      windows.compareAndSet(w, null, mapped);
      return windows.get(w);
    } catch (IOException | UnsupportedOperationException e) {
      // Some file systems cannot map; positional reads work everywhere.
      mappingFailed = true;
      return null;
    }
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    readRun(start, stop - start, out, 0);
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
