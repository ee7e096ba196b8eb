package io.annflight.store.h5ad;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.jhdf.api.Dataset;
import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jhdf.dataset.DatasetBase;
import java.nio.ByteBuffer;

/**
 * Row access to a numeric 1-D or 2-D HDF5 dataset (a 1-D dataset has rows of one element),
 * returning the stored bytes in the dataset's byte order. Subclasses read only what the rows
 * touch; none keeps mutable state, so one instance serves any number of threads.
 */
abstract sealed class H5Array permits ContiguousArray, ChunkedArray, BufferedArray {

  final H5File file;
  final String elementPath;
  final StoredType stored;
  final long nRows;
  final int rowWidth;
  final int rowBytes;

  H5Array(H5File file, String elementPath, StoredType stored, long nRows, int rowWidth) {
    this.file = file;
    this.elementPath = elementPath;
    this.stored = stored;
    this.nRows = nRows;
    this.rowWidth = rowWidth;
    this.rowBytes = Math.multiplyExact(rowWidth, stored.type().byteWidth());
  }

  /** Opens a dataset for row access; 1-D datasets have width 1. */
  static H5Array of(H5File file, String elementPath, Dataset ds) {
    return file.guard(
        elementPath,
        "the dataset header",
        () -> {
          StoredType stored = StoredType.of(ds.getDataType());
          if (stored == null) {
            throw new UnsupportedLayoutException(
                file.path(), elementPath, "holds " + StoredType.describe(ds.getDataType())
                    + ", expected a numeric or boolean array");
          }
          long[] dims = ds.isScalar() ? new long[] {1} : ds.getDimensionsAsLong();
          if (dims.length < 1 || dims.length > 2) {
            throw new UnsupportedLayoutException(
                file.path(), elementPath, "has " + dims.length
                    + " dimensions, expected a 1-D or 2-D array");
          }
          long nRows = dims[0];
          long width = dims.length == 2 ? dims[1] : 1;
          if (width > Integer.MAX_VALUE / 8) {
            throw new UnsupportedLayoutException(
                file.path(), elementPath, "has " + width + " columns, more than annflight reads");
          }
          if (ds instanceof ChunkedDataset chunked) {
            return new ChunkedArray(file, elementPath, stored, nRows, (int) width, chunked);
          }
          if (ds instanceof ContiguousDataset contiguous) {
            return new ContiguousArray(file, elementPath, stored, nRows, (int) width, contiguous);
          }
          if (ds instanceof DatasetBase base) {
            // Compact layout: the (small) data lives in the object header.
            return new BufferedArray(file, elementPath, stored, nRows, (int) width, base);
          }
          throw new UnsupportedLayoutException(
              file.path(), elementPath, "has an HDF5 storage layout annflight does not read");
        });
  }

  ElementType type() {
    return stored.type();
  }

  /** Rows {@code [start, stop)}, row-major, in a fresh heap buffer. The caller checks bounds. */
  final TypedBuffer readRange(long start, long stop) {
    int n = outputRows(stop - start);
    ByteBuffer out = allocate(n);
    if (n > 0 && rowBytes > 0) {
      fillRange(start, stop, out);
    }
    return typed(out, n);
  }

  /** The given rows (ascending, duplicates allowed), row-major in that order. */
  final TypedBuffer readRows(long[] sortedRows) {
    int n = outputRows(sortedRows.length);
    ByteBuffer out = allocate(n);
    if (n > 0 && rowBytes > 0) {
      fillRows(sortedRows, out);
    }
    return typed(out, n);
  }

  abstract void fillRange(long start, long stop, ByteBuffer out);

  abstract void fillRows(long[] sortedRows, ByteBuffer out);

  final int outputRows(long n) {
    if ((long) n * rowBytes > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          file.path() + " at '" + elementPath + "': " + n + " rows of " + rowBytes
              + " bytes do not fit one block; ask for fewer rows");
    }
    return (int) n;
  }

  private ByteBuffer allocate(int nRowsOut) {
    return ByteBuffer.allocate(nRowsOut * rowBytes).order(stored.order());
  }

  final TypedBuffer typed(ByteBuffer out, int nRowsOut) {
    out.clear();
    return new TypedBuffer(stored.type(), out, nRowsOut * rowWidth);
  }

  MalformedStoreException malformed(String problem) {
    return file.withFault(new MalformedStoreException(file.path(), elementPath, problem));
  }
}
