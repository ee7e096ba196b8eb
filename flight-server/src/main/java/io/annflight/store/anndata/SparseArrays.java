package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.container.ContainerNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The three arrays and the shape of an anndata sparse matrix group ({@code csr_matrix} or
 * {@code csc_matrix}), checked for consistency when opened. Indices and pointers may be any
 * integer type anndata and scipy write (int32, int64, uint16, uint32...).
 */
final class SparseArrays {

  final Path file;
  final String elementPath;
  final ContainerArray data;
  final ContainerArray indices;
  final ContainerArray indptr;
  final long nRows;
  final long nCols;
  /** Length of the compressed axis: rows for CSR, columns for CSC. */
  final long nMajor;
  final long nMinor;
  final long nnz;
  /** Byte order of what {@link #values} returns (the container's, for this array). */
  private final ByteOrder valueOrder;
  /** Byte order of the stored indices. */
  private final ByteOrder indexOrder;

  SparseArrays(Container container, String elementPath, ContainerGroup group, boolean rowMajor) {
    this.file = container.path();
    this.elementPath = elementPath;
    long[] shape = group.attributes().counts("shape")
        .or(() -> group.attributes().counts("h5sparse_shape")) // anndata < 0.7
        .orElseThrow(() -> malformed("has no 'shape' attribute, expected [n_rows, n_cols]"));
    if (shape.length != 2) {
      throw malformed("has shape " + Arrays.toString(shape) + ", expected [n_rows, n_cols]");
    }
    this.nRows = shape[0];
    this.nCols = shape[1];
    this.nMajor = rowMajor ? nRows : nCols;
    this.nMinor = rowMajor ? nCols : nRows;
    this.data = part(container, group, "data", "the stored non-zero values");
    this.indices = part(container, group, "indices", "the non-zeros' minor-axis indices");
    this.indptr = part(container, group, "indptr", "the compressed-axis pointers");
    if (!indices.elementType().isInteger() || !indptr.elementType().isInteger()) {
      throw new UnsupportedLayoutException(file, elementPath, "has non-integer indices or indptr ("
          + indices.elementType() + ", " + indptr.elementType() + ")");
    }
    if (indptr.nRows() != nMajor + 1) {
      throw new MalformedStoreException(file, elementPath + "/indptr", "has "
          + indptr.nRows() + " entries, expected " + (nMajor + 1) + " for shape [" + nRows + ", "
          + nCols + "]");
    }
    if (indices.nRows() != data.nRows()) {
      throw malformed("has " + indices.nRows() + " indices but " + data.nRows() + " data values");
    }
    this.nnz = data.nRows();
    this.valueOrder = data.readRange(0, 0).bytes().order();
    this.indexOrder = indices.readRange(0, 0).bytes().order();
    if (nMinor > Integer.MAX_VALUE) {
      throw new UnsupportedLayoutException(file, elementPath, "has " + nMinor
          + " entries along its minor axis, more than annflight reads");
    }
  }

  private ContainerArray part(Container container, ContainerGroup group, String name,
      String what) {
    String p = group.path().isEmpty() ? name : group.path() + "/" + name;
    ContainerNode node = container.find(p).orElseThrow(() -> new StoreNotFoundException(file,
        elementPath + "/" + name, "missing (expected " + what + ")"));
    if (!(node instanceof ContainerArray a) || a.kind() != ContainerArray.Kind.NUMERIC) {
      throw malformed("has a '" + name + "' that is not a numeric array, expected " + what);
    }
    if (a.shape().length != 1 && !(a.shape().length == 2 && a.shape()[1] == 1)) {
      throw malformed("has a " + a.shape().length + "-D '" + name + "', expected a 1-D array");
    }
    return a;
  }

  ElementType elementType() {
    return data.elementType();
  }

  /**
   * Pointers {@code indptr[first .. first + count]} as longs, checked to be non-decreasing and
   * within the stored non-zeros.
   */
  long[] pointers(long first, long count) {
    long[] p = IntegerColumns.toLongs(indptr.readRange(first, first + count));
    checkPointers(p, null, first);
    return p;
  }

  /** Pointers at the given ascending positions of indptr. */
  long[] pointersAt(long[] positions) {
    long[] p = IntegerColumns.toLongs(indptr.readRows(positions));
    checkPointers(p, positions, 0);
    return p;
  }

  private void checkPointers(long[] p, long[] positions, long first) {
    for (int i = 0; i < p.length; i++) {
      if (p[i] < 0 || p[i] > nnz || (i > 0 && p[i] < p[i - 1])) {
        long at = positions == null ? first + i : positions[i];
        throw new MalformedStoreException(file, elementPath + "/indptr",
            "entry " + at + " is " + p[i] + ", expected non-decreasing pointers within [0, "
                + nnz + "]");
      }
    }
  }

  /** Most stored values one read returns: a block is indexed by int, 8 bytes a value. */
  static final long MAX_BLOCK_VALUES = Integer.MAX_VALUE / 8;

  /** Checks that the rows of one read hold few enough values for one block. */
  void checkBlock(long values, long firstRow, long rows) {
    if (values > MAX_BLOCK_VALUES) {
      throw new IllegalArgumentException(file + " at '" + elementPath + "': " + rows
          + " rows from row " + firstRow + " hold " + values + " stored values, more than one"
          + " read returns (" + MAX_BLOCK_VALUES + "); ask for fewer rows per batch");
    }
  }

  int[] minorIndices(long lo, long hi) {
    return IntegerColumns.toIndices(indices.readRange(lo, hi), nMinor, file,
        elementPath + "/indices");
  }

  TypedBuffer values(long lo, long hi) {
    return data.readRange(lo, hi);
  }

  ByteOrder valueOrder() {
    return valueOrder;
  }

  /**
   * Whether the stored entries can be read as they are into an outgoing batch: indices int32
   * and both arrays little-endian (or of bytes), as anndata and scipy write them on x86.
   */
  boolean readsAsStored() {
    return indices.elementType() == ElementType.INT32 && indexOrder == ByteOrder.LITTLE_ENDIAN
        && (valueOrder == ByteOrder.LITTLE_ENDIAN || elementType().byteWidth() == 1)
        && elementType() != ElementType.BOOL;
  }

  /**
   * Reads the stored entries {@code [lo, hi)} into the destinations from entry {@code at} on
   * (indices as int32, values in their stored width).
   */
  void readEntriesTo(long lo, long hi, ByteBuffer indicesDst, ByteBuffer valuesDst, int at) {
    int width = elementType().byteWidth();
    if (!indices.readLittleEndianRangeTo(lo, hi, indicesDst, Math.multiplyExact(at, 4))
        || !data.readLittleEndianRangeTo(lo, hi, valuesDst, Math.multiplyExact(at, width))) {
      throw new IllegalStateException(file + " at '" + elementPath
          + "': stored entries changed byte order while served");
    }
  }

  /**
   * Checks the {@code n} int32 indices from entry {@code from} of {@code indices} to lie in
   * {@code [0, nMinor)}; whether they strictly ascend.
   */
  boolean checkIndices(ByteBuffer indices, int from, int n) {
    int limit = (int) (nMinor - 1);
    int outside = nMinor <= 0 && n > 0 ? -1 : 0;
    boolean ascending = true;
    int prev = -1;
    for (int e = from, end = from + n; e < end; e++) {
      int v = indices.getInt(e << 2);
      // The sign bit is set by any index outside [0, nMinor): one check per row, not per index.
      outside |= v | (limit - v);
      ascending &= v > prev;
      prev = v;
    }
    if (outside < 0) {
      for (int e = from; e < from + n; e++) {
        int v = indices.getInt(e << 2);
        if (v < 0 || v >= nMinor) {
          throw IntegerColumns.outOfBounds(file, elementPath + "/indices", v, nMinor);
        }
      }
    }
    return ascending;
  }

  MalformedStoreException malformed(String problem) {
    return new MalformedStoreException(file, elementPath, problem);
  }
}
