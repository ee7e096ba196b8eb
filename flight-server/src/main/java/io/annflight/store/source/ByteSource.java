package io.annflight.store.source;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The bytes a container (an HDF5 file, a Zarr chunk or shard) in a bucket is read from: an
 * object version. Positional reads only, so any number of threads read one source at once
 * without a shared position.
 */
public interface ByteSource extends AutoCloseable {

  /** How the source is named in messages ({@code /data/a.h5ad}, {@code s3://bucket/a.h5ad}). */
  String name();

  /** The size, in bytes, of the version that was opened. */
  long size();

  /**
   * What the opened version is: a replaced file or object has another identity (inode, or
   * bucket, key and ETag), so caches keyed by it never hand one version's bytes to another.
   */
  Object identity();

  /**
   * Reads from {@code position} into {@code dst}, as many bytes as fit and the source holds.
   *
   * @return the bytes read, -1 at or past the end
   */
  int read(ByteBuffer dst, long position) throws IOException;

  /**
   * Whether {@link #prefetch} does anything: a source that fetches over a network does, a
   * local file does not (callers skip working out what to hint).
   */
  default boolean readsAhead() {
    return false;
  }

  /**
   * A hint that bytes {@code [position, position + length)} will be read soon: a source in a
   * bucket starts fetching them in the background. Never blocks on a fetch, never fails (the
   * read reports errors); a no-op by default.
   */
  default void prefetch(long position, long length) {}

  @Override
  void close() throws IOException;
}
