package io.annflight.store.h5ad;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Attributes;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.MemoryArray;
import io.jhdf.api.Dataset;
import io.jhdf.object.datatype.CompoundDataType;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.StringData;
import io.jhdf.object.datatype.VariableLength;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * An HDF5 dataset. Numeric datasets are read by rows through {@link H5Array} (positional reads
 * or cached chunks, nothing mapped); string and compound datasets are decoded by jhdf whole, up
 * to {@link #MAX_DECODED_BYTES}.
 */
final class H5Dataset extends H5Node implements ContainerArray {

  /** The most a string or compound dataset may take to decode (they are read whole). */
  static final long MAX_DECODED_BYTES = 1L << 30;

  private final Dataset ds;
  private final Kind kind;
  private final long[] shape;
  private volatile H5Array rows;
  private volatile Map<String, MemoryArray> fields;

  H5Dataset(H5File file, String path, Dataset ds) {
    super(file, path, ds);
    this.ds = ds;
    DataType dt = file.guard(path, "the datatype", ds::getDataType);
    this.kind = dt instanceof CompoundDataType ? Kind.COMPOUND
        : dt instanceof StringData || (dt instanceof VariableLength v && v.isVariableLengthString())
            ? Kind.STRING : Kind.NUMERIC;
    this.shape = file.guard(path, "the dataset shape",
        () -> ds.isScalar() ? new long[0] : ds.getDimensionsAsLong());
  }

  @Override
  public Kind kind() {
    return kind;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public ElementType elementType() {
    return kind == Kind.NUMERIC ? rows().type() : null;
  }

  private H5Array rows() {
    H5Array r = rows;
    if (r == null) {
      r = H5Array.of(file, path, ds);
      rows = r;
    }
    return r;
  }

  @Override
  public TypedBuffer readRange(long start, long stop) {
    H5Array r = rows();
    if (start < 0 || stop < start || stop > r.nRows) {
      throw new IndexOutOfBoundsException(file.path() + " at '" + path + "': rows [" + start
          + ", " + stop + ") are not within [0, " + r.nRows + ")");
    }
    return r.readRange(start, stop);
  }

  @Override
  public TypedBuffer readRows(long[] sortedRows) {
    H5Array r = rows();
    for (int i = 0; i < sortedRows.length; i++) {
      if (sortedRows[i] < 0 || sortedRows[i] >= r.nRows
          || (i > 0 && sortedRows[i] < sortedRows[i - 1])) {
        throw new IndexOutOfBoundsException(file.path() + " at '" + path + "': row "
            + sortedRows[i] + " (position " + i + ") is not a sorted row within [0, " + r.nRows
            + ")");
      }
    }
    return r.readRows(sortedRows);
  }

  @Override
  public boolean readLittleEndianRowsTo(long[] sortedRows, long[] dstOffsets, ByteBuffer dst) {
    return rows() instanceof ContiguousArray c && c.readLittleEndianRowsTo(sortedRows,
        dstOffsets, dst);
  }

  @Override
  public boolean readLittleEndianRangeTo(long start, long stop, ByteBuffer dst, int at) {
    if (!(rows() instanceof ContiguousArray c)) {
      return ContainerArray.super.readLittleEndianRangeTo(start, stop, dst, at);
    }
    if (start < 0 || stop < start || stop > c.nRows) {
      throw new IndexOutOfBoundsException(file.path() + " at '" + path + "': rows [" + start
          + ", " + stop + ") are not within [0, " + c.nRows + ")");
    }
    return c.readLittleEndianRangeTo(start, stop, dst, at);
  }

  /** Numeric datasets of a file in a bucket take hints (contiguous and chunked). */
  @Override
  public boolean readsAhead() {
    return kind == Kind.NUMERIC && file.readsAhead()
        && (rows() instanceof ContiguousArray || rows() instanceof ChunkedArray);
  }

  @Override
  public void prefetchRange(long start, long stop) {
    if (kind != Kind.NUMERIC) {
      return;
    }
    H5Array r = rows();
    long from = Math.max(0, start);
    long to = Math.min(stop, r.nRows);
    if (r instanceof ContiguousArray c) {
      c.prefetchRange(from, to);
    } else if (r instanceof ChunkedArray c) {
      c.prefetchRange(from, to);
    }
  }

  @Override
  public String[] readStrings() {
    checkDecodedSize();
    return file.guard(path, "the strings", () -> {
      if (ds.getSize() == 0) {
        return new String[0];
      }
      if (ds instanceof io.jhdf.api.dataset.ChunkedDataset chunked && shape.length == 1
          && ds.getDataType() instanceof VariableLength) {
        return H5VlenStrings.read(file, path, chunked, shape[0]);
      }
      Object data = ds.getData();
      if (data instanceof String s) {
        return new String[] {s};
      }
      if (data instanceof String[] s) {
        return s;
      }
      throw new MalformedStoreException(file.path(), path, "holds "
          + data.getClass().getSimpleName() + ", expected a 1-D array of strings");
    });
  }

  @Override
  public List<String> fieldNames() {
    if (kind != Kind.COMPOUND) {
      return List.of();
    }
    return ((CompoundDataType) ds.getDataType()).getMembers().stream()
        .map(CompoundDataType.CompoundDataMember::getName).toList();
  }

  @Override
  public ContainerArray field(String name) {
    MemoryArray f = fields().get(name);
    if (f == null) {
      throw new MalformedStoreException(file.path(), path, "has no field '" + name
          + "' (fields: " + fieldNames() + ")");
    }
    return f;
  }

  private Map<String, MemoryArray> fields() {
    Map<String, MemoryArray> f = fields;
    if (f == null) {
      checkDecodedSize();
      f = file.guard(path, "the compound records", this::decodeFields);
      fields = f;
    }
    return f;
  }

  private Map<String, MemoryArray> decodeFields() {
    if (shape.length != 1) {
      throw new UnsupportedLayoutException(file.path(), path, "is a " + shape.length
          + "-D compound dataset, expected 1-D records");
    }
    Map<String, MemoryArray> out = new java.util.LinkedHashMap<>();
    Object data = ds.getData();
    if (!(data instanceof Map<?, ?> columns)) {
      throw new MalformedStoreException(file.path(), path, "compound data decoded as "
          + data.getClass().getSimpleName());
    }
    for (Map.Entry<?, ?> e : columns.entrySet()) {
      String name = String.valueOf(e.getKey());
      String fieldPath = path + "." + name;
      out.put(name, memoryArray(fieldPath, e.getValue()));
    }
    return Map.copyOf(out);
  }

  /** One compound member's values (a Java array from jhdf) as an in-memory array. */
  private MemoryArray memoryArray(String fieldPath, Object values) {
    Attributes none = Attributes.empty(file.path(), fieldPath);
    if (values instanceof String[] s) {
      return MemoryArray.strings(fieldPath, none, s);
    }
    int n = Array.getLength(values);
    Object first = n == 0 ? null : Array.get(values, 0);
    int width = first != null && first.getClass().isArray() ? Array.getLength(first) : 1;
    Class<?> component = width == 1 && (first == null || !first.getClass().isArray())
        ? values.getClass().getComponentType() : first.getClass().getComponentType();
    ElementType type = typeOf(component, fieldPath);
    TypedBuffer buf = TypedBuffer.allocate(type, Math.multiplyExact(n, width));
    ByteBuffer b = buf.bytes();
    for (int i = 0; i < n; i++) {
      Object row = Array.get(values, i);
      for (int j = 0; j < width; j++) {
        Object v = width == 1 && !row.getClass().isArray() ? row : Array.get(row, j);
        put(b, (i * width + j) * type.byteWidth(), type, v);
      }
    }
    long[] shape = width == 1 && (first == null || !first.getClass().isArray())
        ? new long[] {n} : new long[] {n, width};
    return MemoryArray.numeric(fieldPath, none, shape, buf);
  }

  private ElementType typeOf(Class<?> c, String fieldPath) {
    if (c == byte.class) {
      return ElementType.INT8;
    }
    if (c == short.class) {
      return ElementType.INT16;
    }
    if (c == int.class) {
      return ElementType.INT32;
    }
    if (c == long.class) {
      return ElementType.INT64;
    }
    if (c == float.class) {
      return ElementType.FLOAT32;
    }
    if (c == double.class) {
      return ElementType.FLOAT64;
    }
    if (c == boolean.class) {
      return ElementType.BOOL;
    }
    throw new UnsupportedLayoutException(file.path(), fieldPath, "is a compound field of "
        + c.getSimpleName() + ", expected numbers, booleans or strings");
  }

  private static void put(ByteBuffer b, int at, ElementType t, Object v) {
    switch (t) {
      case INT8 -> b.put(at, (Byte) v);
      case INT16 -> b.putShort(at, (Short) v);
      case INT32 -> b.putInt(at, (Integer) v);
      case INT64 -> b.putLong(at, (Long) v);
      case FLOAT32 -> b.putFloat(at, (Float) v);
      case FLOAT64 -> b.putDouble(at, (Double) v);
      case BOOL -> b.put(at, (byte) ((Boolean) v ? 1 : 0));
      default -> throw new IllegalStateException(t.toString());
    }
  }

  private void checkDecodedSize() {
    long bytes = file.guard(path, "the dataset size", ds::getSizeInBytes);
    if (bytes > MAX_DECODED_BYTES || bytes < 0) {
      throw new UnsupportedLayoutException(file.path(), path, "holds " + bytes
          + " bytes of strings or records, more than annflight decodes at once ("
          + MAX_DECODED_BYTES + ")");
    }
  }

}
