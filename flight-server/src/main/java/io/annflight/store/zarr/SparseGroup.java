package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixLayout;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/** The arrays of an anndata sparse group ({@code data}, {@code indices}, {@code indptr}, shape). */
record SparseGroup(
    String element,
    MatrixLayout layout,
    long nRows,
    long nCols,
    ZarrArray data,
    ZarrArray indices,
    ZarrArray indptr) {

  static SparseGroup open(ZarrTree tree, String element, MatrixLayout layout) {
    JsonNode attrs = tree.attrs(element);
    JsonNode shape = attrs.has("shape") ? attrs.get("shape") : attrs.path("h5sparse_shape");
    if (!shape.isArray() || shape.size() != 2 || !shape.get(0).canConvertToLong()
        || !shape.get(1).canConvertToLong() || shape.get(0).asLong() < 0 || shape.get(1).asLong() < 0) {
      throw new MalformedStoreException(
          tree.root(), element, "expected a 'shape' attribute [rows, cols] on the sparse group, found " + shape);
    }
    long rows = shape.get(0).asLong();
    long cols = shape.get(1).asLong();
    ZarrArray data = tree.array(ZarrTree.join(element, "data")).requireNumeric(1);
    ZarrArray indices = tree.array(ZarrTree.join(element, "indices")).requireNumeric(1);
    ZarrArray indptr = tree.array(ZarrTree.join(element, "indptr")).requireNumeric(1);
    for (ZarrArray a : new ZarrArray[] {indices, indptr}) {
      if (!a.elementType().isInteger()) {
        throw new UnsupportedLayoutException(
            tree.root(), a.element(), "expected an integer array, found " + a.elementType().numpyName());
      }
    }
    long major = layout == MatrixLayout.CSR ? rows : cols;
    if (indptr.length() != major + 1) {
      throw new MalformedStoreException(
          tree.root(), indptr.element(),
          "expected " + (major + 1) + " entries for shape [" + rows + ", " + cols + "], found " + indptr.length());
    }
    if (data.length() != indices.length()) {
      throw new MalformedStoreException(
          tree.root(), element,
          "data has " + data.length() + " entries but indices has " + indices.length());
    }
    return new SparseGroup(element, layout, rows, cols, data, indices, indptr);
  }

  ElementType elementType() {
    return data.elementType();
  }

  long nnz() {
    return data.length();
  }

  /** Converts little-endian integer bytes (int32 or int64 indices) to ints, checking the bound. */
  int[] toIndices(ZarrArray source, byte[] bytes, int count, long bound) {
    int[] out = new int[count];
    ElementType t = source.elementType();
    if (t == ElementType.INT32) {
      IntBuffer ib = java.nio.ByteBuffer.wrap(bytes, 0, count * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
      ib.get(out);
    } else if (t == ElementType.INT64) {
      LongBuffer lb = java.nio.ByteBuffer.wrap(bytes, 0, count * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
      for (int i = 0; i < count; i++) {
        long v = lb.get(i);
        out[i] = v < 0 || v >= bound ? -1 : (int) v;
      }
    } else {
      TypedBuffer tb = new TypedBuffer(t, java.nio.ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), count);
      for (int i = 0; i < count; i++) {
        long v = tb.getLong(i);
        out[i] = v < 0 || v >= bound ? -1 : (int) v;
      }
    }
    for (int i = 0; i < count; i++) {
      if (out[i] < 0 || out[i] >= bound) {
        throw new MalformedStoreException(
            source.store(), source.element(),
            "holds an index outside [0, " + bound + ")");
      }
    }
    return out;
  }

  MalformedStoreException badIndptr(String problem) {
    return new MalformedStoreException(indptr.store(), indptr.element(), problem);
  }
}
