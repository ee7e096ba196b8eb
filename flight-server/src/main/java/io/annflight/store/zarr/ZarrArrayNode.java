package io.annflight.store.zarr;

import io.annflight.schema.ElementType;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Attributes;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.MemoryArray;
import java.util.List;
import java.util.Map;

/**
 * A Zarr array (v2 or v3) as a container array. Rows of a 2-D array are read chunk-row by
 * chunk-row: the chunks of a chunk-row are decoded once (in parallel) and the requested rows'
 * slices copied out; a 1-D array is read through its chunks in one forward pass.
 */
final class ZarrArrayNode implements ContainerArray {

  private final ZarrArray array;
  private final Attributes attributes;
  /** A record array's fields, decoded on first use. */
  private volatile Map<String, MemoryArray> fields;

  ZarrArrayNode(ZarrArray array, Attributes attributes) {
    this.array = array;
    this.attributes = attributes;
  }

  @Override
  public String path() {
    return array.element();
  }

  @Override
  public Attributes attributes() {
    return attributes;
  }

  @Override
  public Kind kind() {
    if (isRecords()) {
      return Kind.COMPOUND;
    }
    return array.isNumeric() ? Kind.NUMERIC : Kind.STRING;
  }

  private boolean isRecords() {
    return array.meta().dtype().kind() == ZarrDtype.Kind.STRUCTURED;
  }

  @Override
  public List<String> fieldNames() {
    return array.meta().dtype().fields().stream().map(ZarrDtype.Field::name).toList();
  }

  @Override
  public ContainerArray field(String name) {
    if (!isRecords()) {
      return ContainerArray.super.field(name);
    }
    Map<String, MemoryArray> f = fields;
    if (f == null) {
      f = ZarrRecords.fields(array);
      fields = f;
    }
    MemoryArray a = f.get(name);
    if (a == null) {
      throw new io.annflight.store.MalformedStoreException(array.store(), path(), "has no field '"
          + name + "' (fields: " + fieldNames() + ")");
    }
    return a;
  }

  @Override
  public long[] shape() {
    return array.shape();
  }

  @Override
  public ElementType elementType() {
    return array.elementType();
  }

  @Override
  public TypedBuffer readRange(long start, long stop) {
    return read(RowSelection.range(array.store() + " at '" + path() + "'", nRows(), start, stop));
  }

  @Override
  public TypedBuffer readRows(long[] sortedRows) {
    return read(RowSelection.sorted(array.store() + " at '" + path() + "'", nRows(), sortedRows));
  }

  @Override
  public boolean readsAhead() {
    return array.isNumeric() && array.readsAhead();
  }

  @Override
  public void prefetchRange(long start, long stop) {
    if (array.isNumeric()) {
      array.prefetchRows(start, stop);
    }
  }

  @Override
  public String[] readStrings() {
    return array.readAllStrings();
  }

  private TypedBuffer read(RowSelection sel) {
    requireNumeric();
    return switch (array.rank()) {
      case 0 -> scalar(sel);
      case 1 -> oneDimensional(sel);
      case 2 -> twoDimensional(sel);
      default -> throw new UnsupportedLayoutException(array.store(), path(), "is a "
          + array.rank() + "-D array, expected 1-D or 2-D");
    };
  }

  private void requireNumeric() {
    if (!array.isNumeric()) {
      throw new UnsupportedLayoutException(array.store(), path(),
          "expected a numeric array, found dtype " + array.meta().dtype().text());
    }
  }

  private TypedBuffer scalar(RowSelection sel) {
    int w = array.width();
    TypedBuffer out = TypedBuffer.allocate(elementType(), sel.size());
    byte[] chunk = array.numericChunk();
    for (int i = 0; i < sel.size(); i++) {
      System.arraycopy(chunk, 0, out.bytes().array(), i * w, w);
    }
    return out;
  }

  private TypedBuffer oneDimensional(RowSelection sel) {
    int n = sel.size();
    int w = array.width();
    TypedBuffer out = TypedBuffer.allocate(elementType(), n);
    ZarrArray.Cursor1d cursor = new ZarrArray.Cursor1d(array);
    byte[] dst = out.bytes().array();
    if (sel.isRange()) {
      if (n > 0) {
        cursor.copy(sel.row(0), sel.row(0) + n, dst, 0);
      }
      return out;
    }
    int i = 0;
    while (i < n) {
      int j = i + 1;
      while (j < n && sel.row(j) == sel.row(j - 1) + 1) {
        j++;
      }
      cursor.copy(sel.row(i), sel.row(j - 1) + 1, dst, i * w);
      i = j;
      while (i < n && sel.row(i) == sel.row(i - 1)) {
        System.arraycopy(dst, (i - 1) * w, dst, i * w, w);
        i++;
      }
    }
    return out;
  }

  private TypedBuffer twoDimensional(RowSelection sel) {
    long[] shape = array.shape();
    int cols = Math.toIntExact(shape[1]);
    int chunkRows = array.meta().chunks()[0];
    int chunkCols = array.meta().chunks()[1];
    int width = array.width();
    boolean fortran = array.meta().fortranOrder();
    int n = sel.size();
    TypedBuffer out = TypedBuffer.allocate(elementType(), Math.multiplyExact(n, cols));
    byte[] dst = out.bytes().array();
    long chunkColCount = (cols + chunkCols - 1) / chunkCols;
    int i = 0;
    while (i < n) {
      long chunkRow = sel.row(i) / chunkRows;
      int j = i + 1;
      while (j < n && sel.row(j) / chunkRows == chunkRow) {
        j++;
      }
      byte[][] chunks = array.tree().decoder().all((int) chunkColCount, byte[][]::new,
          cc -> array.numericChunk(chunkRow, cc));
      for (int cc = 0; cc < chunkColCount; cc++) {
        byte[] chunk = chunks[cc];
        int colStart = cc * chunkCols;
        int take = Math.min(chunkCols, cols - colStart);
        for (int k = i; k < j; k++) {
          int within = (int) (sel.row(k) - chunkRow * chunkRows);
          int dstAt = (k * cols + colStart) * width;
          if (!fortran) {
            System.arraycopy(chunk, within * chunkCols * width, dst, dstAt, take * width);
          } else {
            for (int c = 0; c < take; c++) {
              System.arraycopy(chunk, (c * chunkRows + within) * width, dst, dstAt + c * width,
                  width);
            }
          }
        }
      }
      i = j;
    }
    return out;
  }
}
