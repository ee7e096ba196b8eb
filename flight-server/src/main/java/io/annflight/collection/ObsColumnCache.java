package io.annflight.collection;

import io.annflight.store.ColumnData;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The obs columns read for requests (labels, obs_filter, label weights), kept across requests
 * within a byte budget, least recently used out first. Entries are keyed by the opening of the
 * store ({@link StoreHandle}'s id), never by its path: a store replaced on disk is opened anew
 * under another id, so its old columns are never served for the new file. A column larger than
 * the whole budget is read for the caller and not kept. Columns are kept compact (see
 * {@link CompactColumns}). Thread-safe; one read of a column at a time, whoever asks.
 */
public final class ObsColumnCache {

  /** The default budget: 256 MiB, at most an eighth of the heap. */
  public static final long DEFAULT_BYTES = Math.min(256L << 20,
      Runtime.getRuntime().maxMemory() / 8);

  private record Key(long store, String column) {}

  private final long budgetBytes;
  private final LinkedHashMap<Key, ColumnData> entries = new LinkedHashMap<>(64, 0.75f, true);
  private final Map<Key, CompletableFuture<ColumnData>> reading = new HashMap<>();
  private final AtomicLong reads = new AtomicLong();
  private long usedBytes;

  public ObsColumnCache(long budgetBytes) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("the obs column cache needs >= 0 bytes, got "
          + budgetBytes);
    }
    this.budgetBytes = budgetBytes;
  }

  /**
   * The column {@code column} of the store opened as {@code store}: the kept one, or what
   * {@code read} returns (kept when it fits the budget).
   */
  ColumnData get(long store, String column, Supplier<ColumnData> read) {
    Key key = new Key(store, column);
    CompletableFuture<ColumnData> mine;
    CompletableFuture<ColumnData> other;
    synchronized (this) {
      ColumnData kept = entries.get(key);
      if (kept != null) {
        return kept;
      }
      other = reading.get(key);
      mine = other == null ? new CompletableFuture<>() : null;
      if (mine != null) {
        reading.put(key, mine);
      }
    }
    if (other != null) {
      try {
        return other.join();
      } catch (java.util.concurrent.CompletionException e) {
        // The reader's own failure (a damaged column, a closed store), as it threw it.
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw e;
      }
    }
    try {
      ColumnData data = read.get();
      reads.incrementAndGet();
      keep(key, data);
      mine.complete(data);
      return data;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      synchronized (this) {
        reading.remove(key);
      }
    }
  }

  private synchronized void keep(Key key, ColumnData data) {
    long weight = data.heapBytes();
    if (weight > budgetBytes) {
      return;
    }
    ColumnData previous = entries.put(key, data);
    if (previous != null) {
      usedBytes -= previous.heapBytes();
    }
    usedBytes += weight;
    Iterator<Map.Entry<Key, ColumnData>> it = entries.entrySet().iterator();
    while (usedBytes > budgetBytes && it.hasNext()) {
      Map.Entry<Key, ColumnData> eldest = it.next();
      if (eldest.getKey().equals(key)) {
        continue;
      }
      usedBytes -= eldest.getValue().heapBytes();
      it.remove();
    }
  }

  /** Drops the columns of a store opening that closed. */
  synchronized void forget(long store) {
    Iterator<Map.Entry<Key, ColumnData>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Key, ColumnData> e = it.next();
      if (e.getKey().store() == store) {
        usedBytes -= e.getValue().heapBytes();
        it.remove();
      }
    }
  }

  /** Heap the kept columns take now (what {@code annflight_obs_cache_bytes} reports). */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  /** Columns kept now. */
  public synchronized int size() {
    return entries.size();
  }

  /** Columns read from their stores so far (a kept column is read once). */
  public long reads() {
    return reads.get();
  }
}
