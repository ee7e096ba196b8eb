package io.annflight.store;

import io.annflight.schema.ElementType;

/**
 * Row access to one two-dimensional element of a store ({@code X}, {@code raw/X},
 * {@code layers/<key>}, {@code obsm/<key>}). Implementations are safe for concurrent use and
 * read only the chunks (or sparse slices) that the requested rows touch, decompressing each
 * chunk at most once per call.
 */
public interface MatrixReader {

  /** Element path inside the store, e.g. {@code X} or {@code layers/counts}. */
  String elementPath();

  long nRows();

  long nCols();

  ElementType elementType();

  MatrixLayout layout();

  /** Values stored: the non-zeros of a sparse matrix, every element of a dense one. */
  default long storedValues() {
    return nRows() * nCols();
  }

  /** Reads rows {@code [start, stop)}. */
  RowBlock readRows(long start, long stop);

  /**
   * Reads the given rows, which must be sorted ascending (duplicates allowed); the block holds
   * them in that order.
   */
  RowBlock readRows(long[] sortedRows);

  /**
   * Reads the given dense rows (ascending, duplicates allowed) straight into {@code dst}: row
   * k's little-endian values go to bytes {@code [dstOffsets[k], dstOffsets[k] + row bytes)} from
   * the buffer's start. False, with nothing written, when this reader cannot. Lets a batch's
   * rows skip the intermediate block they would otherwise be read into (a run of rows that
   * are consecutive in both goes in one read).
   */
  default boolean readLittleEndianRowsTo(long[] sortedRows, long[] dstOffsets,
      java.nio.ByteBuffer dst) {
    return false;
  }

  /**
   * The given rows (ascending, duplicates allowed) of a sparse matrix whose stored entries can
   * be read as they are into a caller's buffers (CSR with 32-bit indices, little-endian
   * values and indices); empty when this reader cannot (the caller then uses
   * {@link #readRows(long[])}).
   */
  default java.util.Optional<SparseRowReads> sparseRows(long[] sortedRows) {
    return java.util.Optional.empty();
  }

  /**
   * Whether {@link #prefetch} does anything: a reader of a store in a bucket does; one of
   * local files does not, and a stream then works out nothing to hint.
   */
  default boolean readsAhead() {
    return false;
  }

  /**
   * A hint that the given rows (ascending, duplicates allowed) will be read soon: a reader of a
   * store in a bucket starts fetching the byte ranges they need in the background. May read a
   * little (a sparse matrix's pointers), decodes nothing, and leaves errors to the read; a
   * no-op by default. Call it off the thread that waits for batches: it may wait for that
   * little read.
   */
  default void prefetch(long[] sortedRows) {}
}
