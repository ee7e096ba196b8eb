package io.annflight.store.h5ad;

import io.jhdf.api.dataset.ContiguousDataset;
import java.nio.ByteBuffer;

/** A contiguous dataset: rows are read with positional reads straight into the output. */
final class ContiguousArray extends H5Array {

  /** -1 when the dataset was never written: every element is the fill value (zero). */
  private final long address;

  ContiguousArray(
      H5File file, String elementPath, StoredType stored, long nRows, int rowWidth,
      ContiguousDataset ds) {
    super(file, elementPath, stored, nRows, rowWidth);
    this.address = ds.isEmpty() ? -1 : ds.getDataAddress();
    if (address >= 0) {
      file.checkInFile(elementPath, address, Math.multiplyExact(nRows, (long) rowBytes));
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
