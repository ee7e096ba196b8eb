package io.annflight.store;

import io.annflight.store.source.ObjectStore;
import io.annflight.store.source.ObjectVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads ahead along the chunks of a directory store in a bucket, where every chunk is an object
 * and a GET each. A chunk's key is its array's key and its index in the chunk grid (Zarr v2
 * {@code X/data/3} or {@code X/3.0} or {@code X/3/0}, v3 {@code X/c/3/0} or {@code X/c.3.0}):
 * when a read of an array's chunk follows one of the chunk before it along the first dimension
 * (rows, as an epoch in order reads them, and a block-shuffled one inside each block), the
 * chunks of the next rows are fetched in the background, up to the store's read-ahead bytes,
 * so that they are in the cache when the stream gets to them. Thread-safe; a hint only: what
 * it fetches is read at the versions listed, like every read of the store.
 */
final class ObjectChunkReadAhead {
  /** An array's chunks by their first index (row of chunks), each row's chunk keys. */
  private record Grid(NavigableMap<Long, List<String>> rows) {}

  /** A chunk key taken apart; null when the key is no chunk's. */
  record ChunkKey(String array, long row) {
    static ChunkKey parse(String key) {
      String[] parts = key.split("/");
      int end = parts.length;
      // The index: the trailing parts that are numbers or dotted numbers (3, 3.0, c.3.0).
      int first = end;
      while (first > 0 && isIndex(parts[first - 1])) {
        first--;
      }
      String lead;
      if (first < end) {
        lead = parts[first].contains(".") ? parts[first].split("\\.")[0] : parts[first];
      } else if (end > 0 && parts[end - 1].startsWith("c.") && isIndex(parts[end - 1]
          .substring(2))) {
        first = end - 1;
        lead = parts[end - 1].substring(2).split("\\.")[0];
      } else {
        return null;
      }
      if (first == 0) {
        return null; // a number at the top of the store: no array above it
      }
      try {
        return new ChunkKey(String.join("/", java.util.Arrays.copyOf(parts, first)),
            Long.parseLong(lead));
      } catch (NumberFormatException e) {
        return null;
      }
    }

    private static boolean isIndex(String part) {
      if (part.isEmpty() || part.startsWith(".") || part.endsWith(".") || part.contains("..")) {
        return false;
      }
      for (int i = 0; i < part.length(); i++) {
        char c = part.charAt(i);
        if (!(c >= '0' && c <= '9') && c != '.') {
          return false;
        }
      }
      return true;
    }
  }

  private final ObjectStore objects;
  private final Map<String, ObjectVersion> listed;
  private final long budget;
  /** Built on the first read ahead, from the listing: most stores are read only by row. */
  private volatile Map<String, Grid> grids;
  /** The row of chunks each array was last read at. */
  private final Map<String, Long> lastRow = new ConcurrentHashMap<>();

  ObjectChunkReadAhead(ObjectStore objects, Map<String, ObjectVersion> listed) {
    this.objects = objects;
    this.listed = listed;
    this.budget = objects.readAheadBytes();
  }

  /** Told of a read of {@code key} (relative to the store) before it is read. */
  void reading(String key) {
    if (budget == 0) {
      return;
    }
    ChunkKey chunk = ChunkKey.parse(key);
    if (chunk == null) {
      return;
    }
    Long previous = lastRow.put(chunk.array(), chunk.row());
    if (previous == null || previous != chunk.row() - 1) {
      return; // the first read of the array, the same row again, or a jump: no order to follow
    }
    Grid grid = grids().get(chunk.array());
    if (grid == null) {
      return;
    }
    long bytes = 0;
    for (List<String> row : grid.rows().tailMap(chunk.row(), false).values()) {
      for (String k : row) {
        ObjectVersion v = listed.get(k);
        bytes += v.size();
        if (bytes > budget) {
          return;
        }
        objects.prefetch(v);
      }
    }
  }

  private Map<String, Grid> grids() {
    Map<String, Grid> g = grids;
    if (g == null) {
      synchronized (this) {
        g = grids;
        if (g == null) {
          Map<String, TreeMap<Long, List<String>>> rows = new java.util.HashMap<>();
          for (String key : listed.keySet()) {
            ChunkKey c = ChunkKey.parse(key);
            if (c != null) {
              rows.computeIfAbsent(c.array(), a -> new TreeMap<>())
                  .computeIfAbsent(c.row(), r -> new ArrayList<>()).add(key);
            }
          }
          Map<String, Grid> built = new java.util.HashMap<>();
          rows.forEach((array, r) -> built.put(array, new Grid(r)));
          grids = g = built;
        }
      }
    }
    return g;
  }
}
