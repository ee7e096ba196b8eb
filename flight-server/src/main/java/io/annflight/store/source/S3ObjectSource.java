package io.annflight.store.source;

import java.nio.ByteBuffer;

/**
 * One version of an object in a bucket, read through the server's block caches. Reads of a
 * version replaced in the bucket fail (its ETag no longer matches) rather than return the new
 * object's bytes.
 */
public final class S3ObjectSource implements ByteSource {
  private final ObjectVersion version;
  private final ObjectBlocks blocks;
  /** Where the last read ended: a read starting near it is reading in order. */
  private volatile long lastEnd = -1;

  S3ObjectSource(ObjectVersion version, ObjectBlocks blocks) {
    this.version = version;
    this.blocks = blocks;
  }

  public ObjectVersion version() {
    return version;
  }

  @Override
  public String name() {
    return version.uri();
  }

  @Override
  public long size() {
    return version.size();
  }

  @Override
  public Object identity() {
    return version.identity();
  }

  @Override
  public int read(ByteBuffer dst, long position) {
    int n = blocks.read(version, position, dst);
    if (n > 0) {
      long previous = lastEnd;
      lastEnd = position + n;
      if (previous >= 0 && Math.abs(position - previous) <= blocks.blockBytes()) {
        blocks.prefetch(version, position + n);
      }
    }
    return n;
  }

  @Override
  public void close() {
    // Nothing is held per source: the client and the caches belong to the store.
  }
}
