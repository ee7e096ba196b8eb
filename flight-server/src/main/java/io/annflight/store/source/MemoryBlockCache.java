package io.annflight.store.source;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Blocks fetched from object stores, least recently used evicted first, bounded in bytes.
 * Shared by every stream and store of the server.
 */
final class MemoryBlockCache {
  private final long capacity;
  private final LinkedHashMap<BlockKey, byte[]> blocks = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;

  MemoryBlockCache(long capacity) {
    this.capacity = capacity;
  }

  synchronized byte[] get(BlockKey key) {
    return blocks.get(key);
  }

  void put(BlockKey key, byte[] block) {
    if (block.length > capacity) {
      return;
    }
    synchronized (this) {
      byte[] old = blocks.put(key, block);
      bytes += block.length - (old == null ? 0 : old.length);
      var it = blocks.entrySet().iterator();
      while (bytes > capacity && it.hasNext()) {
        Map.Entry<BlockKey, byte[]> eldest = it.next();
        bytes -= eldest.getValue().length;
        it.remove();
      }
    }
  }

  synchronized long bytes() {
    return bytes;
  }
}
