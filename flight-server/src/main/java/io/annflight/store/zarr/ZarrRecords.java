package io.annflight.store.zarr;

import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Attributes;
import io.annflight.store.container.MemoryArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fields of a 1-d structured (record) Zarr array, each as an in-memory array of the same
 * rows: numeric fields as little-endian values ({@code n x count} for a sub-array field),
 * fixed-width string fields as strings. The records are read whole, as the HDF5 reader reads a
 * compound dataset, so the anndata layer reads both through one {@code CompoundFrame}.
 */
final class ZarrRecords {
  /** The most a record array may take (it is read whole); as for HDF5 compound datasets. */
  static final long MAX_BYTES = 1L << 30;

  private ZarrRecords() {}

  static Map<String, MemoryArray> fields(ZarrArray array) {
    byte[] records = array.readAllRecords(MAX_BYTES);
    int w = array.width();
    int n = records.length / w;
    Map<String, MemoryArray> out = new LinkedHashMap<>();
    for (ZarrDtype.Field f : array.meta().dtype().fields()) {
      String path = array.element() + "." + f.name();
      Attributes none = Attributes.empty(array.store(), path);
      ZarrDtype t = f.type();
      if (t.kind() != ZarrDtype.Kind.NUMERIC && f.count() != 1) {
        throw new UnsupportedLayoutException(array.store(), path, "is a field of "
            + f.count() + " strings per record, expected one");
      }
      out.put(f.name(), switch (t.kind()) {
        case NUMERIC -> MemoryArray.numeric(path, none, f.count() == 1 ? new long[] {n}
            : new long[] {n, f.count()}, numbers(records, n, w, f));
        case FIXED_BYTES -> MemoryArray.strings(path, none, FixedWidthStrings.bytes(records, n,
            w, f.offset(), t.itemSize()));
        case FIXED_UNICODE -> MemoryArray.strings(path, none, FixedWidthStrings.unicode(records,
            n, w, f.offset(), t.itemSize(), t.bigEndian(), array.store(), array.element(),
            "field '" + f.name() + "'"));
        default -> throw new UnsupportedLayoutException(array.store(), path, "is a field of "
            + t.text() + ", expected numbers, booleans or fixed-width strings");
      });
    }
    return out;
  }

  /** A numeric field's values, record after record, little-endian. */
  private static TypedBuffer numbers(byte[] records, int n, int recordBytes, ZarrDtype.Field f) {
    int size = f.type().itemSize();
    int valueBytes = size * f.count();
    TypedBuffer out = TypedBuffer.allocate(f.type().elementType(),
        Math.multiplyExact(n, f.count()));
    byte[] dst = out.bytes().array();
    for (int i = 0; i < n; i++) {
      System.arraycopy(records, i * recordBytes + f.offset(), dst, i * valueBytes, valueBytes);
    }
    if (f.type().bigEndian()) {
      ZarrArray.reverseEach(dst, size);
    }
    return out;
  }
}
