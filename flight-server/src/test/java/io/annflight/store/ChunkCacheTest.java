package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ChunkCacheTest {

  @Test
  void evictsLeastRecentlyUsedChunksToStayWithinTheBudget() {
    ChunkCache cache = new ChunkCache(1_000);
    byte[] a = new byte[200];
    byte[] b = new byte[200];
    byte[] c = new byte[200];
    cache.put("a", a);
    cache.put("b", b);
    cache.put("c", c);
    assertThat(cache.get("a")).isSameAs(a);   // a is now the most recently used
    cache.put("d", new byte[200]);
    cache.put("e", new byte[200]);             // 5 x 232 bytes > 1000: the eldest (b) goes
    assertThat(cache.get("b")).isNull();
    assertThat(cache.get("a")).isSameAs(a);
    assertThat(cache.get("c")).isSameAs(c);
  }

  @Test
  void refusesChunksLargerThanAQuarterOfTheBudget() {
    ChunkCache cache = new ChunkCache(1_000);
    cache.put("small", new byte[100]);
    cache.put("big", new byte[300]);
    assertThat(cache.get("big")).isNull();
    assertThat(cache.get("small")).isNotNull();
  }

  @Test
  void replacingAKeyDoesNotCountItTwice() {
    ChunkCache cache = new ChunkCache(1_000);
    for (int i = 0; i < 100; i++) {
      cache.put("same", new byte[200]);
    }
    cache.put("other", new byte[200]);
    cache.put("third", new byte[200]);
    assertThat(cache.get("same")).isNotNull();
    assertThat(cache.get("other")).isNotNull();
  }

  @Test
  void removingEntriesGivesTheirBytesBack() {
    ChunkCache cache = new ChunkCache(1_000);
    cache.put("keep", new byte[100]);
    cache.put("drop1", new byte[100]);
    cache.put("drop2", new byte[100]);
    cache.removeIf(k -> ((String) k).startsWith("drop"));
    assertThat(cache.get("drop1")).isNull();
    assertThat(cache.get("keep")).isNotNull();
    assertThat(cache.usedBytes()).isEqualTo(132);
  }

  @Test
  void scopesKeepTheirKeysApartAndDropOnlyTheirOwn() {
    ChunkCache cache = new ChunkCache(10_000);
    ChunkCache.Scope a = cache.scope();
    ChunkCache.Scope b = cache.scope();
    byte[] fromA = new byte[100];
    byte[] fromB = new byte[100];
    a.put("X\u0000chunk 0", fromA);  // the same key in two stores' openings
    b.put("X\u0000chunk 0", fromB);
    assertThat(a.get("X\u0000chunk 0")).isSameAs(fromA);
    assertThat(b.get("X\u0000chunk 0")).isSameAs(fromB);
    assertThat(cache.get("X\u0000chunk 0")).isNull();
    assertThat(cache.usedBytes()).isEqualTo(264);   // one budget for both
    a.clear();
    assertThat(a.get("X\u0000chunk 0")).isNull();
    assertThat(b.get("X\u0000chunk 0")).isSameAs(fromB);
    assertThat(cache.usedBytes()).isEqualTo(132);
  }
}
