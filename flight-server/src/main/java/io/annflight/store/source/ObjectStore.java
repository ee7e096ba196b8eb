package io.annflight.store.source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An S3-compatible object store as the server reads it: paths into its buckets, the versions of
 * objects, and their bytes through one memory cache and one disk cache shared by every store and
 * stream. Thread-safe.
 */
public final class ObjectStore implements AutoCloseable {
  /** The objects a prefix's identity is taken from, first found wins (Zarr v3, then v2). */
  private static final String[] ROOT_METADATA = {"zarr.json", ".zattrs", ".zgroup"};

  private final ObjectStoreSettings settings;
  private final ObjectClient client;
  private final ObjectBlocks blocks;
  private final MemoryBlockCache memory;
  private final DiskBlockCache disk;
  private final ObjectFileSystemProvider provider = new ObjectFileSystemProvider();
  private final Map<String, ObjectFileSystem> buckets = new ConcurrentHashMap<>();
  /**
   * Keys recently seen to be objects ({@code bucket/key}): a path below one cannot exist, as
   * below a file, and is answered without asking (S3-compatible stores with a file system
   * behind them fail such requests with 500 instead of 404).
   */
  private final Map<String, Boolean> knownObjects = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > 10_000;
        }
      });

  /** An object's or prefix's attributes and when the look that found them began. */
  private record Seen(ObjectAttributes attributes, long atNanos) {}

  /**
   * Attributes looked up within {@link ObjectStoreSettings#revalidate}, by {@code bucket/key}:
   * the several lookups of one request (its path, whether the store changed) and of the
   * streams that follow it send one HEAD, not one each. Bounded like {@link #knownObjects}.
   */
  private final Map<String, Seen> seen = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
          return size() > 10_000;
        }
      });

  public ObjectStore(ObjectStoreSettings settings) {
    this(settings, ObjectStoreMetrics.global());
  }

  ObjectStore(ObjectStoreSettings settings, ObjectStoreMetrics metrics) {
    this.settings = settings;
    this.client = new ObjectClient(settings, metrics);
    this.memory = settings.memoryCacheBytes() > 0
        ? new MemoryBlockCache(settings.memoryCacheBytes()) : null;
    try {
      this.disk = settings.cacheDir() == null || settings.diskCacheBytes() == 0 ? null
          : new DiskBlockCache(settings.cacheDir(), settings.diskCacheBytes());
    } catch (IOException e) {
      client.close();
      throw new UncheckedIOException("cache directory " + settings.cacheDir()
          + " cannot be used: " + e.getMessage(), e);
    }
    this.blocks = new ObjectBlocks(client, settings.blockBytes(), memory, disk, metrics,
        settings.readAheadBlocks(), Math.max(1, settings.maxInFlight() / 2), this::forget);
  }

  public ObjectStoreSettings settings() {
    return settings;
  }

  /** Whether {@code text} names an object ({@code s3://bucket/key}). */
  public static boolean isObjectUri(String text) {
    return text != null && text.startsWith("s3://");
  }

  /**
   * The path of {@code s3://bucket/key...}.
   *
   * @throws IllegalArgumentException when it is not such a URI or names no bucket
   */
  public ObjectPath path(String uri) {
    if (!isObjectUri(uri)) {
      throw new IllegalArgumentException("\"" + uri + "\" is not an s3://bucket/key URI");
    }
    String rest = uri.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    if (bucket.isEmpty()) {
      throw new IllegalArgumentException("\"" + uri + "\" names no bucket (s3://bucket/key)");
    }
    try {
      URI.create("s3://" + bucket + "/");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + bucket + "\" is not a bucket name", e);
    }
    ObjectFileSystem fs = buckets.computeIfAbsent(bucket,
        b -> new ObjectFileSystem(provider, this, b));
    return ObjectPath.parse(fs, "/" + (slash < 0 ? "" : rest.substring(slash + 1)));
  }

  /**
   * The object at {@code path}, opened at its current version.
   *
   * @throws NoSuchFileException when there is no such object
   */
  public S3ObjectSource open(ObjectPath path) throws IOException {
    ObjectVersion v = path.key().isEmpty() ? null : client.head(path.bucket(), path.key());
    if (v == null) {
      throw new NoSuchFileException(path.toString(), null, "no such object");
    }
    return new S3ObjectSource(v, blocks);
  }

  /**
   * Bytes {@code [offset, offset + length)} of exactly this version.
   *
   * @throws ObjectStoreException CHANGED when the object was replaced since it was seen
   */
  public byte[] read(ObjectVersion version, long offset, int length) {
    byte[] out = new byte[length];
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(out);
    while (buf.hasRemaining()) {
      int n = blocks.read(version, offset + buf.position(), buf);
      if (n < 0) {
        throw new ObjectStoreException(ObjectStoreException.Kind.CHANGED, version.uri()
            + ": ends before byte " + (offset + length), null);
      }
    }
    return out;
  }

  /**
   * Starts fetching the first bytes of {@code version} (up to {@link #readAheadBytes()}) in the
   * background, unless cached or being fetched: what a reader will soon ask for. Failures are
   * left to that reader. Nothing happens without a memory cache or with read-ahead off.
   */
  public void prefetch(ObjectVersion version) {
    blocks.prefetch(version, 0);
  }

  /**
   * Starts fetching bytes {@code [start, end)} of {@code version} in the background, unless
   * cached or being fetched: ranges a stream's next batches will read. Nothing happens without
   * a memory cache, with read-ahead off, or while a quarter of the memory cache is being
   * fetched ahead already.
   */
  public void prefetch(ObjectVersion version, long start, long end) {
    blocks.prefetch(version, start, end);
  }

  /** Fetches started ahead of readers and not finished yet. */
  public int readAheadInFlight() {
    return blocks.readAheadInFlight();
  }

  /** What reading ahead may fetch ahead of a reader: read-ahead blocks of block size; 0: off. */
  public long readAheadBytes() {
    return memory == null ? 0 : (long) settings.readAheadBlocks() * settings.blockBytes();
  }

  /**
   * An object's attributes, or a prefix's when objects lie under it: as looked up within the
   * revalidation interval, else looked up now.
   */
  ObjectAttributes attributes(ObjectPath path) throws IOException {
    long interval = settings.revalidate().toNanos();
    if (interval == 0) {
      return lookUp(path);
    }
    String id = path.bucket() + "/" + path.key();
    long now = System.nanoTime();
    Seen s = seen.get(id);
    if (s != null && now - s.atNanos() < interval) {
      return s.attributes();
    }
    ObjectAttributes a = lookUp(path);
    seen.put(id, new Seen(a, now));
    return a;
  }

  /**
   * Forgets what was seen of an object a read found replaced or removed: the next request
   * looks again, without waiting for the revalidation interval.
   */
  private void forget(ObjectVersion v) {
    seen.remove(v.bucket() + "/" + v.key());
  }

  private ObjectAttributes lookUp(ObjectPath path) throws IOException {
    String bucket = path.bucket();
    String key = path.key();
    if (path.belowListedObject() || belowKnownObject(bucket, key)) {
      throw new NoSuchFileException(path.toString(), null, "lies below an object");
    }
    if (!key.isEmpty()) {
      ObjectVersion v;
      try {
        v = client.head(bucket, key);
      } catch (ObjectStoreException e) {
        if (e.kind() == ObjectStoreException.Kind.UNAVAILABLE && objectAbove(bucket, key)) {
          throw new NoSuchFileException(path.toString(), null, "lies below an object");
        }
        throw e;
      }
      if (v != null) {
        knownObjects.put(bucket + "/" + key, Boolean.TRUE);
        return ObjectAttributes.object(v);
      }
    }
    String prefix = key.isEmpty() ? "" : key + "/";
    ObjectClient.Listing page = client.list(bucket, prefix, false, 1, null);
    if (page.objects().isEmpty() && !key.isEmpty()) {
      throw new NoSuchFileException(path.toString(), null, "no such object or prefix");
    }
    return ObjectAttributes.prefix(() -> {
      for (String name : ROOT_METADATA) {
        ObjectVersion v = client.head(bucket, prefix + name);
        if (v != null) {
          return v;
        }
      }
      return null;
    });
  }

  private boolean belowKnownObject(String bucket, String key) {
    for (int i = key.indexOf('/'); i > 0; i = key.indexOf('/', i + 1)) {
      if (knownObjects.containsKey(bucket + "/" + key.substring(0, i))) {
        return true;
      }
    }
    return false;
  }

  /** Whether a key above {@code key} is an object (asked after a failed HEAD of the key). */
  private boolean objectAbove(String bucket, String key) {
    for (int i = key.lastIndexOf('/'); i > 0; i = key.lastIndexOf('/', i - 1)) {
      String above = key.substring(0, i);
      try {
        if (client.head(bucket, above) != null) {
          knownObjects.put(bucket + "/" + above, Boolean.TRUE);
          return true;
        }
      } catch (ObjectStoreException e) {
        return false; // the store fails: the key's own failure is what to report
      }
    }
    return false;
  }

  /** What lies directly under a prefix: its objects and its sub-prefixes. */
  List<Path> children(ObjectPath dir) throws IOException {
    String key = dir.key();
    String prefix = key.isEmpty() ? "" : key + "/";
    List<Path> out = new ArrayList<>();
    String token = null;
    do {
      ObjectClient.Listing page = client.list(dir.bucket(), prefix, true, 1000, token);
      for (ObjectVersion o : page.objects()) {
        if (o.key().length() > prefix.length()) {
          out.add(((ObjectPath) dir.resolve(o.key().substring(prefix.length())))
              .asListedObject());
        }
      }
      for (String p : page.prefixes()) {
        String name = p.substring(prefix.length(), p.length() - 1);
        if (!name.isEmpty()) {
          out.add(dir.resolve(name));
        }
      }
      token = page.next();
    } while (token != null);
    if (out.isEmpty()) {
      if (!key.isEmpty() && client.head(dir.bucket(), key) != null) {
        throw new NotDirectoryException(dir.toString());
      }
      if (!key.isEmpty()) {
        throw new NoSuchFileException(dir.toString());
      }
    }
    return out;
  }

  /**
   * Every object under a prefix with its version now, by key relative to the prefix: what a
   * directory store is read from, so that its chunks are read at the versions listed and a
   * chunk replaced in the bucket fails the read instead of mixing in.
   */
  public Map<String, ObjectVersion> snapshot(ObjectPath dir) throws IOException {
    String key = dir.key();
    String prefix = key.isEmpty() ? "" : key + "/";
    Map<String, ObjectVersion> out = new HashMap<>();
    String token = null;
    do {
      ObjectClient.Listing page = client.list(dir.bucket(), prefix, false, 1000, token);
      for (ObjectVersion o : page.objects()) {
        out.put(o.key().substring(prefix.length()), o);
      }
      token = page.next();
    } while (token != null);
    return out;
  }

  /** Bytes the memory cache holds now. */
  public long memoryCacheBytes() {
    return memory == null ? 0 : memory.bytes();
  }

  /** Bytes the disk cache holds now. */
  public long diskCacheBytes() {
    return disk == null ? 0 : disk.bytes();
  }

  @Override
  public void close() {
    blocks.close();
    client.close();
  }
}
