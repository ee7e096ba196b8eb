package io.annflight.store.source;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blocks fetched from object stores, on the server's disk, kept across restarts and bounded in
 * bytes (least recently used removed first; at start the oldest files count as least recently
 * used). A block's file is named by the hash of its key, which holds the object's ETag: a
 * replaced object's old blocks are never read for it, and age out. Files are written whole
 * under a temporary name and renamed, so a crash never leaves a partial block under a real
 * name; a block of the wrong length is dropped as a miss.
 */
final class DiskBlockCache {
  private static final Logger LOG = LoggerFactory.getLogger(DiskBlockCache.class);
  private static final String SUFFIX = ".blk";

  private final Path dir;
  private final long capacity;
  /** File name to size, in order of last use. */
  private final LinkedHashMap<String, Long> files = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;

  DiskBlockCache(Path dir, long capacity) throws IOException {
    this.dir = dir;
    this.capacity = capacity;
    Files.createDirectories(dir);
    List<Path> found = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(found::add);
    }
    List<Map.Entry<Path, BasicFileAttributes>> blocks = new ArrayList<>();
    for (Path p : found) {
      String name = p.getFileName().toString();
      if (name.endsWith(".tmp")) {
        Files.deleteIfExists(p); // left by a crash while written
      } else if (name.endsWith(SUFFIX)) {
        blocks.add(Map.entry(p, Files.readAttributes(p, BasicFileAttributes.class)));
      }
    }
    blocks.sort(Comparator.comparing(e -> e.getValue().lastModifiedTime()));
    for (var e : blocks) {
      String name = e.getKey().getFileName().toString();
      files.put(name.substring(0, name.length() - SUFFIX.length()), e.getValue().size());
      bytes += e.getValue().size();
    }
    evict();
    LOG.info("disk cache {}: {} blocks, {} MiB of at most {} MiB", dir, files.size(),
        bytes >> 20, capacity >> 20);
  }

  synchronized boolean contains(BlockKey key) {
    return files.containsKey(key.fileName());
  }

  /** The block, or null when it is not cached (or its file is not {@code expectedLength}). */
  byte[] get(BlockKey key, int expectedLength) {
    String name = key.fileName();
    synchronized (this) {
      if (files.get(name) == null) {
        return null;
      }
    }
    try {
      byte[] block = Files.readAllBytes(dir.resolve(name + SUFFIX));
      if (block.length == expectedLength) {
        return block;
      }
    } catch (NoSuchFileException e) {
      // removed meanwhile: a miss
    } catch (IOException e) {
      LOG.warn("disk cache {}: cannot read a block: {}", dir, e.getMessage());
    }
    forget(name);
    return null;
  }

  void put(BlockKey key, byte[] block) {
    if (block.length > capacity) {
      return;
    }
    String name = key.fileName();
    synchronized (this) {
      if (files.containsKey(name)) {
        return;
      }
    }
    Path tmp = dir.resolve(name + "." + Thread.currentThread().getId() + ".tmp");
    try {
      Files.write(tmp, block);
      try {
        Files.move(tmp, dir.resolve(name + SUFFIX), StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dir.resolve(name + SUFFIX), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // A full or read-only disk costs the cache, never the read.
      LOG.warn("disk cache {}: cannot write a block: {}", dir, e.getMessage());
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // nothing more to do
      }
      return;
    }
    synchronized (this) {
      Long old = files.put(name, (long) block.length);
      bytes += block.length - (old == null ? 0 : old);
    }
    evict();
  }

  private void forget(String name) {
    synchronized (this) {
      Long size = files.remove(name);
      if (size != null) {
        bytes -= size;
      }
    }
    try {
      Files.deleteIfExists(dir.resolve(name + SUFFIX));
    } catch (IOException ignored) {
      // a miss either way
    }
  }

  private void evict() {
    List<String> out = new ArrayList<>();
    synchronized (this) {
      var it = files.entrySet().iterator();
      while (bytes > capacity && it.hasNext()) {
        Map.Entry<String, Long> eldest = it.next();
        bytes -= eldest.getValue();
        out.add(eldest.getKey());
        it.remove();
      }
    }
    for (String name : out) {
      try {
        Files.deleteIfExists(dir.resolve(name + SUFFIX));
      } catch (IOException e) {
        LOG.warn("disk cache {}: cannot remove a block: {}", dir, e.getMessage());
      }
    }
  }

  synchronized long bytes() {
    return bytes;
  }
}
