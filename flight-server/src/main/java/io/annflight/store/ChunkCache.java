package io.annflight.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * A small least-recently-used cache of decoded chunks, bounded by bytes and shared by all
 * threads and stores of a server (each Zarr store's opening through a {@link Scope} of its
 * own). It keeps hot small chunks (indptr, codes, the chunk a random row falls in) decoded
 * across calls; chunks larger than a quarter of the budget are not kept so a scan over X
 * cannot flush it.
 */
public final class ChunkCache {

  /** A cached value that knows its size (other values are weighed by their array type). */
  public interface Weighted {
    long bytes();
  }

  private final long budgetBytes;
  private final LinkedHashMap<Object, Object> entries = new LinkedHashMap<>(64, 0.75f, true);
  private final ToLongFunction<Object> weigher;
  private long usedBytes;

  public ChunkCache(long budgetBytes) {
    this.budgetBytes = budgetBytes;
    this.weigher = ChunkCache::weigh;
  }

  /** {@code key}: any value with equals and a cheap hashCode (a record, a string). */
  public synchronized Object get(Object key) {
    return entries.get(key);
  }

  public synchronized void put(Object key, Object chunk) {
    long weight = weigher.applyAsLong(chunk);
    if (weight > budgetBytes / 4) {
      return;
    }
    Object previous = entries.put(key, chunk);
    if (previous != null) {
      usedBytes -= weigher.applyAsLong(previous);
    }
    usedBytes += weight;
    var it = entries.entrySet().iterator();
    while (usedBytes > budgetBytes && it.hasNext()) {
      Map.Entry<Object, Object> eldest = it.next();
      usedBytes -= weigher.applyAsLong(eldest.getValue());
      it.remove();
    }
  }

  /** Drops the entries whose key {@code drop} accepts (those of a store that closed). */
  public synchronized void removeIf(java.util.function.Predicate<Object> drop) {
    var it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Object, Object> e = it.next();
      if (drop.test(e.getKey())) {
        usedBytes -= weigher.applyAsLong(e.getValue());
        it.remove();
      }
    }
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  /** A new owner's view of this cache (see {@link Scope}). */
  public Scope scope() {
    return new Scope(this);
  }

  /**
   * This cache as one owner (a store's opening) sees it: its keys apart from every other
   * owner's, all of them dropped at once by {@link #clear()}; the budget is the whole cache's,
   * so many owners hold no more than one.
   */
  public static final class Scope {
    private final ChunkCache cache;

    private Scope(ChunkCache cache) {
      this.cache = cache;
    }

    public Object get(Object key) {
      return cache.get(new ScopedKey(this, key));
    }

    public void put(Object key, Object chunk) {
      cache.put(new ScopedKey(this, key), chunk);
    }

    /** Drops this owner's entries. */
    public void clear() {
      cache.removeIf(k -> k instanceof ScopedKey sk && sk.scope() == this);
    }
  }

  /** A key of one scope: equal only within it (a scope is equal to itself alone). */
  private record ScopedKey(Scope scope, Object key) {}

  /** Bytes held now. */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  private static long weigh(Object chunk) {
    if (chunk instanceof Weighted w) {
      return w.bytes();
    }
    if (chunk instanceof byte[] b) {
      return b.length + 32L;
    }
    if (chunk instanceof long[] l) {
      return 8L * l.length + 32L;
    }
    if (chunk instanceof String[] s) {
      long w = 16L + 8L * s.length;
      for (String v : s) {
        w += v == null ? 0 : 40 + v.length();
      }
      return w;
    }
    return 64;
  }
}
