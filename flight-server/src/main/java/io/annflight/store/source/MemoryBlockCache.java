package io.annflight.store.source;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocks fetched from object stores, bounded in bytes, shared by every stream and store of the
 * server. Lookups take no lock (many reader threads hit it for every read); when a put passes
 * the bound, the least recently used tenth is evicted at once, so eviction's sort is rare.
 */
final class MemoryBlockCache {
  private final long capacity;
  private final ConcurrentHashMap<BlockKey, Entry> blocks = new ConcurrentHashMap<>();
  private final AtomicLong bytes = new AtomicLong();

  private static final class Entry {
    final byte[] block;
    volatile long used;

    Entry(byte[] block) {
      this.block = block;
      this.used = System.nanoTime();
    }
  }

  /** The most it holds, in bytes. */
  long capacity() {
    return capacity;
  }

  MemoryBlockCache(long capacity) {
    this.capacity = capacity;
  }

  byte[] get(BlockKey key) {
    Entry e = blocks.get(key);
    if (e == null) {
      return null;
    }
    e.used = System.nanoTime();
    return e.block;
  }

  void put(BlockKey key, byte[] block) {
    if (block.length > capacity) {
      return;
    }
    Entry old = blocks.put(key, new Entry(block));
    if (bytes.addAndGet(block.length - (old == null ? 0 : old.block.length)) > capacity) {
      evict();
    }
  }

  private synchronized void evict() {
    if (bytes.get() <= capacity) {
      return; // another thread evicted meanwhile
    }
    List<Map.Entry<BlockKey, Entry>> all = new ArrayList<>(blocks.entrySet());
    all.sort(Comparator.comparingLong(e -> e.getValue().used));
    long target = capacity - capacity / 10;
    for (Map.Entry<BlockKey, Entry> e : all) {
      if (bytes.get() <= target) {
        break;
      }
      if (blocks.remove(e.getKey(), e.getValue())) {
        bytes.addAndGet(-e.getValue().block.length);
      }
    }
  }

  long bytes() {
    return bytes.get();
  }
}
