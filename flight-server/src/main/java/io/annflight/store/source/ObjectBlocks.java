package io.annflight.store.source;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads byte ranges of object versions through the block caches. A read takes the blocks it
 * covers from memory, else from disk, and fetches the rest: adjacent missing blocks in one
 * ranged GET (up to {@link #MAX_GET_BYTES}), a block another thread is already fetching is
 * waited for rather than fetched twice. No lock is held while fetching, so reads of one object
 * run in parallel.
 */
final class ObjectBlocks {
  /** The most one GET asks for: larger runs are split, each piece retried on its own. */
  static final int MAX_GET_BYTES = 16 << 20;

  private final ObjectClient client;
  private final int blockBytes;
  private final MemoryBlockCache memory;
  private final DiskBlockCache disk;
  private final ObjectStoreMetrics metrics;
  private final ConcurrentHashMap<BlockKey, CompletableFuture<byte[]>> fetching =
      new ConcurrentHashMap<>();
  private final int readAheadBlocks;
  /** Fetches ahead of readers; its requests count against the store's bound like any. */
  private final java.util.concurrent.ExecutorService readAhead;
  /** Told of a version a GET found replaced or removed. */
  private final java.util.function.Consumer<ObjectVersion> gone;
  /** Bytes of fetches started ahead and not finished: bounds what hints may start. */
  private final java.util.concurrent.atomic.AtomicLong pendingBytes =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicInteger inFlight =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param memory null for none
   * @param disk null for none
   * @param readAheadBlocks blocks {@link #prefetch} fetches; 0 (or no memory cache) for none
   * @param gone told of a version a GET found replaced or removed
   */
  ObjectBlocks(ObjectClient client, int blockBytes, MemoryBlockCache memory, DiskBlockCache disk,
      ObjectStoreMetrics metrics, int readAheadBlocks, int threads,
      java.util.function.Consumer<ObjectVersion> gone) {
    this.client = client;
    this.gone = gone;
    this.blockBytes = blockBytes;
    this.memory = memory;
    this.disk = disk;
    this.metrics = metrics;
    this.readAheadBlocks = memory == null ? 0 : readAheadBlocks;
    this.readAhead = this.readAheadBlocks == 0 ? null
        : java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
          Thread t = new Thread(r, "annflight-read-ahead");
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Starts fetching the blocks from {@code position} on ({@code readAheadBlocks} of them) that
   * are neither cached nor being fetched, in the background: a source read in order (an epoch
   * in order, or a block-shuffled one) then finds them fetched. Failures are left to the
   * readers that wait for those blocks.
   */
  void prefetch(ObjectVersion v, long position) {
    prefetch(v, position, position + (long) readAheadBlocks * blockBytes);
  }

  /**
   * Starts fetching the blocks covering bytes {@code [start, end)} that are neither cached nor
   * being fetched, in the background: ranges a stream's next batches will read (hinted by its
   * plan). Skipped, without error, while the bytes read ahead and not yet fetched exceed a
   * quarter of the memory cache (more could push what was fetched ahead out before it is
   * read). Failures are left to the readers that wait for those blocks.
   */
  void prefetch(ObjectVersion v, long start, long end) {
    if (readAhead == null || start >= v.size() || end <= start
        || pendingBytes.get() > memory.capacity() / 4) {
      return;
    }
    long first = start / blockBytes;
    long last = (Math.min(v.size(), end) - 1) / blockBytes;
    int count = (int) (last - first + 1);
    @SuppressWarnings("unchecked")
    CompletableFuture<byte[]>[] pending = new CompletableFuture[count];
    boolean[] mine = new boolean[count];
    for (int i = 0; i < count; i++) {
      BlockKey key = key(v, first + i);
      if (memory.get(key) != null || (disk != null && disk.contains(key))) {
        continue;
      }
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      if (fetching.putIfAbsent(key, f) == null) {
        pending[i] = f;
        mine[i] = true;
      }
    }
    forEachRun(mine, (from, to) -> {
      long bytes = (long) (to - from) * blockBytes;
      pendingBytes.addAndGet(bytes);
      inFlight.incrementAndGet();
      try {
        readAhead.execute(() -> {
          try {
            fetch(v, first, from, to, pending);
            metrics.blocksFetchedAhead.add(to - from);
          } catch (RuntimeException | Error e) {
            // the waiting readers got it; nobody else waits for a read-ahead
          } finally {
            pendingBytes.addAndGet(-bytes);
            inFlight.decrementAndGet();
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        pendingBytes.addAndGet(-bytes);
        inFlight.decrementAndGet();
        for (int k = from; k < to; k++) {
          pending[k].completeExceptionally(e);
          fetching.remove(key(v, first + k), pending[k]);
        }
      }
    });
  }

  /** What to do with one run of blocks {@code [from, to)} to fetch in one GET. */
  private interface Run {
    void of(int from, int to);
  }

  /**
   * Calls {@code run} for each run of consecutive blocks marked in {@code mine}, cut at
   * {@link #MAX_GET_BYTES}: the blocks one ranged GET fetches.
   */
  private void forEachRun(boolean[] mine, Run run) {
    int maxRun = Math.max(1, MAX_GET_BYTES / blockBytes);
    for (int i = 0; i < mine.length; ) {
      if (!mine[i]) {
        i++;
        continue;
      }
      int j = i;
      while (j < mine.length && mine[j] && j - i < maxRun) {
        j++;
      }
      run.of(i, j);
      i = j;
    }
  }

  /** Whether {@link #prefetch} fetches anything (read-ahead on, a memory cache). */
  boolean readsAhead() {
    return readAhead != null;
  }

  /** Fetches started ahead of readers and not finished yet (what tests wait for). */
  int readAheadInFlight() {
    return inFlight.get();
  }

  void close() {
    if (readAhead != null) {
      readAhead.shutdownNow();
    }
  }

  int blockBytes() {
    return blockBytes;
  }

  /**
   * Reads from {@code position} of version {@code v} into {@code dst}, as much as fits.
   *
   * @return bytes read, -1 at or past the end
   * @throws ObjectStoreException when a fetch fails
   */
  int read(ObjectVersion v, long position, ByteBuffer dst) {
    if (position >= v.size()) {
      return -1;
    }
    int n = (int) Math.min(dst.remaining(), v.size() - position);
    if (n == 0) {
      return 0;
    }
    long first = position / blockBytes;
    long last = (position + n - 1) / blockBytes;
    if (first == last && memory != null) {
      // The common case once warm: one block, in memory; nothing allocated.
      byte[] block = memory.get(key(v, first));
      if (block != null) {
        metrics.memoryHits.increment();
        dst.put(block, (int) (position - first * blockBytes), n);
        return n;
      }
    }
    int count = (int) (last - first + 1);
    byte[][] blocks = new byte[count][];
    @SuppressWarnings("unchecked")
    CompletableFuture<byte[]>[] pending = new CompletableFuture[count];
    boolean[] mine = new boolean[count];
    for (int i = 0; i < count; i++) {
      BlockKey key = key(v, first + i);
      blocks[i] = cached(key, length(v, first + i));
      if (blocks[i] == null) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        CompletableFuture<byte[]> other = fetching.putIfAbsent(key, f);
        pending[i] = other != null ? other : f;
        mine[i] = other == null;
      }
    }
    forEachRun(mine, (from, to) -> fetch(v, first, from, to, pending));
    for (int i = 0; i < count; i++) {
      if (blocks[i] == null) {
        blocks[i] = await(pending[i]);
      }
    }
    copy(blocks, first, position, n, dst);
    return n;
  }

  /** Fetches blocks {@code [from, to)} of the read (numbered from {@code first}) in one GET. */
  private void fetch(ObjectVersion v, long first, int from, int to,
      CompletableFuture<byte[]>[] pending) {
    long start = (first + from) * blockBytes;
    long end = Math.min(v.size(), (first + to) * (long) blockBytes);
    try {
      byte[] bytes = client.get(v, start, end);
      for (int i = from; i < to; i++) {
        long b = first + i;
        int off = (int) ((b - first - from) * blockBytes);
        int len = length(v, b);
        byte[] block = java.util.Arrays.copyOfRange(bytes, off, off + len);
        BlockKey key = key(v, b);
        if (memory != null) {
          memory.put(key, block);
        }
        if (disk != null) {
          disk.put(key, block);
        }
        pending[i].complete(block);
        fetching.remove(key, pending[i]);
      }
    } catch (RuntimeException | Error e) {
      for (int i = from; i < to; i++) {
        pending[i].completeExceptionally(e);
        fetching.remove(key(v, first + i), pending[i]);
      }
      if (e instanceof ObjectStoreException o && (o.kind() == ObjectStoreException.Kind.CHANGED
          || o.kind() == ObjectStoreException.Kind.NOT_FOUND)) {
        gone.accept(v);
      }
      throw e;
    }
  }

  private static byte[] await(CompletableFuture<byte[]> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  private byte[] cached(BlockKey key, int length) {
    if (memory != null) {
      byte[] b = memory.get(key);
      if (b != null) {
        metrics.memoryHits.increment();
        return b;
      }
      metrics.memoryMisses.increment();
    }
    if (disk != null) {
      byte[] b = disk.get(key, length);
      if (b != null) {
        metrics.diskHits.increment();
        if (memory != null) {
          memory.put(key, b);
        }
        return b;
      }
      metrics.diskMisses.increment();
    }
    return null;
  }

  private void copy(byte[][] blocks, long first, long position, int n, ByteBuffer dst) {
    int done = 0;
    long pos = position;
    for (int i = 0; done < n; i++) {
      int off = (int) (pos - (first + i) * blockBytes);
      int len = Math.min(blocks[i].length - off, n - done);
      dst.put(blocks[i], off, len);
      done += len;
      pos += len;
    }
  }

  private BlockKey key(ObjectVersion v, long block) {
    return new BlockKey(v, blockBytes, block);
  }

  private int length(ObjectVersion v, long block) {
    return (int) Math.min(blockBytes, v.size() - block * blockBytes);
  }
}
