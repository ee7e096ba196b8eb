package io.annflight.store.h5ad;

import io.jhdf.dataset.DatasetBase;
import java.nio.ByteBuffer;

/** A compact dataset (its few bytes live in the object header): read whole, then sliced. */
final class BufferedArray extends H5Array {

  private final byte[] data;

  BufferedArray(
      H5File file, String elementPath, StoredType stored, long nRows, int rowWidth,
      DatasetBase ds) {
    super(file, elementPath, stored, nRows, rowWidth);
    ByteBuffer buf = ds.getDataBuffer();
    this.data = new byte[buf.remaining()];
    buf.get(data);
    if ((long) data.length < nRows * rowBytes) {
      throw malformed("holds " + data.length + " bytes, expected " + nRows * rowBytes);
    }
  }

  @Override
  void fillRange(long start, long stop, ByteBuffer out) {
    System.arraycopy(data, (int) start * rowBytes, out.array(), 0, (int) (stop - start) * rowBytes);
  }

  @Override
  void fillRows(long[] rows, ByteBuffer out) {
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(data, (int) rows[i] * rowBytes, out.array(), i * rowBytes, rowBytes);
    }
  }
}
