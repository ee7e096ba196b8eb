package io.annflight.store.container;

import io.annflight.schema.ElementType;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An n-dimensional array. The encoding layer reads numeric arrays by rows (of a 1-D array a row
 * is one element; a 0-D array is one row of one element), string arrays whole, and compound
 * (record) arrays field by field. Implementations read only what a call touches and check that
 * every row asked for exists.
 */
public interface ContainerArray extends ContainerNode {

  /** What the elements are. */
  enum Kind {
    NUMERIC,
    STRING,
    /** Records with named fields (HDF5 compound datasets; anndata up to 0.6 wrote them). */
    COMPOUND
  }

  Kind kind();

  long[] shape();

  /** Number of rows: {@code shape[0]}, or 1 for a 0-D array. */
  default long nRows() {
    long[] s = shape();
    return s.length == 0 ? 1 : s[0];
  }

  /** Values per row: the product of {@code shape[1:]}. */
  default long rowWidth() {
    long[] s = shape();
    long w = 1;
    for (int d = 1; d < s.length; d++) {
      w = Math.multiplyExact(w, s[d]);
    }
    return w;
  }

  /** The stored type of a numeric array; null otherwise. */
  ElementType elementType();

  /** Rows {@code [start, stop)} of a numeric array, row-major (any byte order). */
  TypedBuffer readRange(long start, long stop);

  /** The given rows (ascending, duplicates allowed) of a numeric array, in that order. */
  TypedBuffer readRows(long[] sortedRows);

  /**
   * Reads the given rows (ascending, duplicates allowed) as little-endian bytes straight into
   * {@code dst}, row k at byte {@code dstOffsets[k]}; false, with nothing written, when this
   * array cannot (the caller then uses {@link #readRows}).
   */
  default boolean readLittleEndianRowsTo(long[] sortedRows, long[] dstOffsets, ByteBuffer dst) {
    return false;
  }

  /**
   * Reads rows {@code [start, stop)} of a numeric array as little-endian bytes straight into
   * {@code dst} from byte {@code at}; false, with nothing written, when its stored bytes are
   * big-endian (wider than a byte). Arrays that read from a file override this to read into
   * {@code dst} itself; this default copies what {@link #readRange} returns.
   */
  default boolean readLittleEndianRangeTo(long start, long stop, ByteBuffer dst, int at) {
    TypedBuffer t = readRange(start, stop);
    if (t.type().byteWidth() > 1 && !t.isLittleEndian()) {
      return false;
    }
    dst.put(at, t.bytes(), 0, Math.multiplyExact(t.length(), t.type().byteWidth()));
    return true;
  }

  /**
   * Whether {@link #prefetchRange} does anything: an array read from a bucket does; one on
   * local disk does not, and callers then skip working out what to hint.
   */
  default boolean readsAhead() {
    return false;
  }

  /**
   * A hint that rows {@code [start, stop)} of a numeric array will be read soon: an array in a
   * bucket starts fetching their bytes (file ranges, chunk objects) into the memory cache in
   * the background. Decodes nothing, never fails (the read reports errors); a no-op by default.
   */
  default void prefetchRange(long start, long stop) {}

  /** Every element of a 1-D (or 0-D) string array; null marks an element with no value. */
  String[] readStrings();

  /** Field names of a compound array, in stored order; empty for other kinds. */
  default List<String> fieldNames() {
    return List.of();
  }

  /** One field of a compound array, as an array of the same rows. */
  default ContainerArray field(String name) {
    throw new UnsupportedOperationException(path() + " is not a compound array");
  }
}
