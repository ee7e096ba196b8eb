package io.annflight.store.source;

import java.nio.ByteBuffer;

/**
 * One version of an object in a bucket, read through the server's block caches. Reads of a
 * version replaced in the bucket fail (its ETag no longer matches) rather than return the new
 * object's bytes.
 */
public final class S3ObjectSource implements ByteSource {
  /**
   * Runs of reads in order followed at once: a CSR matrix's rows are read from its data and
   * its indices, two places of the file, and other columns from more.
   */
  private static final int RUNS = 4;

  private final ObjectVersion version;
  private final ObjectBlocks blocks;
  /**
   * Where the last read of each run ended (-1: none yet): a read starting near one continues
   * that run. A run not continued is replaced, oldest first. Races only cost a read-ahead.
   */
  private final java.util.concurrent.atomic.AtomicLongArray runEnds =
      new java.util.concurrent.atomic.AtomicLongArray(RUNS);
  private final java.util.concurrent.atomic.AtomicInteger nextRun =
      new java.util.concurrent.atomic.AtomicInteger();

  S3ObjectSource(ObjectVersion version, ObjectBlocks blocks) {
    this.version = version;
    this.blocks = blocks;
    for (int i = 0; i < RUNS; i++) {
      runEnds.set(i, -1);
    }
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
      followRuns(position, position + n);
    }
    return n;
  }

  /**
   * A read of {@code [start, end)} that continues a run (starts within a block of where it
   * ended) fetches the blocks after it ahead; one that does not starts a run.
   */
  private void followRuns(long start, long end) {
    for (int i = 0; i < RUNS; i++) {
      long runEnd = runEnds.get(i);
      if (runEnd >= 0 && Math.abs(start - runEnd) <= blocks.blockBytes()) {
        runEnds.set(i, end);
        blocks.prefetch(version, end);
        return;
      }
    }
    runEnds.set(Math.floorMod(nextRun.getAndIncrement(), RUNS), end);
  }

  @Override
  public boolean readsAhead() {
    return blocks.readsAhead();
  }

  @Override
  public void prefetch(long position, long length) {
    blocks.prefetch(version, position, position + length);
  }

  @Override
  public void close() {
    // Nothing is held per source: the client and the caches belong to the store.
  }
}
