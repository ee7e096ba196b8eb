package io.annflight.store.container;

import io.annflight.schema.ElementType;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;

/**
 * An array already in memory: a field of a compound dataset, read whole with its dataset.
 * Numeric values are row-major in a typed buffer; strings are an array.
 */
public final class MemoryArray implements ContainerArray {

  private final String path;
  private final Attributes attributes;
  private final long[] shape;
  private final TypedBuffer values;
  private final String[] strings;

  private MemoryArray(String path, Attributes attributes, long[] shape, TypedBuffer values,
      String[] strings) {
    this.path = path;
    this.attributes = attributes;
    this.shape = shape;
    this.values = values;
    this.strings = strings;
  }

  public static MemoryArray numeric(String path, Attributes attributes, long[] shape,
      TypedBuffer values) {
    MemoryArray a = new MemoryArray(path, attributes, shape.clone(), values, null);
    if (Math.multiplyExact(a.nRows(), a.rowWidth()) != values.length()) {
      throw new IllegalArgumentException(path + ": " + values.length() + " values for shape "
          + java.util.Arrays.toString(shape));
    }
    return a;
  }

  public static MemoryArray strings(String path, Attributes attributes, String[] strings) {
    return new MemoryArray(path, attributes, new long[] {strings.length}, null, strings.clone());
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Attributes attributes() {
    return attributes;
  }

  @Override
  public Kind kind() {
    return strings == null ? Kind.NUMERIC : Kind.STRING;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public ElementType elementType() {
    return values == null ? null : values.type();
  }

  @Override
  public TypedBuffer readRange(long start, long stop) {
    requireNumeric();
    int w = Math.toIntExact(rowWidth()) * values.type().byteWidth();
    int n = Math.toIntExact(stop - start);
    ByteBuffer out = ByteBuffer.allocate(n * w).order(values.bytes().order());
    out.put(0, values.bytes(), (int) start * w, n * w);
    return new TypedBuffer(values.type(), out, n * (int) rowWidth());
  }

  @Override
  public TypedBuffer readRows(long[] sortedRows) {
    requireNumeric();
    int w = Math.toIntExact(rowWidth()) * values.type().byteWidth();
    ByteBuffer out = ByteBuffer.allocate(sortedRows.length * w).order(values.bytes().order());
    for (int i = 0; i < sortedRows.length; i++) {
      out.put(i * w, values.bytes(), (int) sortedRows[i] * w, w);
    }
    return new TypedBuffer(values.type(), out, sortedRows.length * (int) rowWidth());
  }

  @Override
  public String[] readStrings() {
    if (strings == null) {
      throw new UnsupportedOperationException(path + " is not a string array");
    }
    return strings.clone();
  }

  private void requireNumeric() {
    if (values == null) {
      throw new UnsupportedOperationException(path + " is not a numeric array");
    }
  }
}
