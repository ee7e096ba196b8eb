package io.annflight.store.source;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * How the server reaches its buckets and caches what it fetched.
 *
 * @param endpoint an S3-compatible endpoint (MinIO, Ceph, S3Proxy); null for AWS itself
 * @param region the signing region
 * @param pathStyle {@code endpoint/bucket/key} rather than {@code bucket.endpoint/key}
 * @param credentials null for the SDK's default chain (environment, profile files, instance
 *     roles); tests give made-up ones
 * @param blockBytes the unit of ranged reads and of both caches
 * @param memoryCacheBytes the in-memory block cache; 0 for none
 * @param cacheDir the disk cache, kept across restarts; null for none
 * @param diskCacheBytes what the disk cache may hold
 * @param maxInFlight requests to the store at once, for the whole server
 * @param maxAttempts tries of one request (throttling, 5xx, timeouts) before it fails
 * @param attemptTimeout one try's limit
 * @param connectTimeout a connection's limit
 * @param readAheadBlocks blocks fetched ahead of a source read in order (sequential and
 *     block-shuffled epochs); 0 for none
 * @param revalidate how long what a HEAD saw of an object (or a prefix) answers the next
 *     lookups of it: a request looks up each store several times (its path, whether it
 *     changed) and a stream once more, and these reuse one look; zero asks every time. A
 *     change in the bucket is seen by the requests that start this long after it, at once by
 *     those after a read found the object replaced. Reads never depend on it: they ask for the
 *     version opened ({@code If-Match}).
 */
public record ObjectStoreSettings(URI endpoint, String region, boolean pathStyle,
    AwsCredentialsProvider credentials, int blockBytes, long memoryCacheBytes, Path cacheDir,
    long diskCacheBytes, int maxInFlight, int maxAttempts, Duration attemptTimeout,
    Duration connectTimeout, int readAheadBlocks, Duration revalidate) {

  public static final int DEFAULT_BLOCK_BYTES = 1 << 20;
  public static final long DEFAULT_MEMORY_CACHE_BYTES = 256L << 20;
  public static final long DEFAULT_DISK_CACHE_BYTES = 10L << 30;
  public static final int DEFAULT_MAX_IN_FLIGHT = 32;
  public static final Duration DEFAULT_REVALIDATE = Duration.ofSeconds(1);

  public ObjectStoreSettings {
    if (blockBytes < 512 || Integer.bitCount(blockBytes) != 1) {
      throw new IllegalArgumentException("the block size must be a power of two of at least"
          + " 512 bytes, got " + blockBytes);
    }
    if (memoryCacheBytes < 0 || diskCacheBytes < 0) {
      throw new IllegalArgumentException("cache sizes must be >= 0");
    }
    if (readAheadBlocks < 0) {
      throw new IllegalArgumentException("read-ahead must be >= 0 blocks");
    }
    if (revalidate.isNegative()) {
      throw new IllegalArgumentException("the revalidation interval must be >= 0");
    }
    if (maxInFlight < 1 || maxAttempts < 1) {
      throw new IllegalArgumentException("requests in flight and attempts must be >= 1");
    }
  }

  /** AWS itself, the default credential chain, default caches in memory only. */
  public static ObjectStoreSettings defaults() {
    return new ObjectStoreSettings(null, defaultRegion(), false, null, DEFAULT_BLOCK_BYTES,
        DEFAULT_MEMORY_CACHE_BYTES, null, DEFAULT_DISK_CACHE_BYTES, DEFAULT_MAX_IN_FLIGHT, 5,
        Duration.ofSeconds(30), Duration.ofSeconds(5), 8, DEFAULT_REVALIDATE);
  }

  /** The region the environment names, else us-east-1 (never a wait on instance metadata). */
  static String defaultRegion() {
    for (String v : new String[] {System.getenv("AWS_REGION"),
        System.getenv("AWS_DEFAULT_REGION"), System.getProperty("aws.region")}) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return "us-east-1";
  }

  public ObjectStoreSettings withEndpoint(URI endpoint, String region, boolean pathStyle) {
    return new ObjectStoreSettings(endpoint, region == null ? this.region : region, pathStyle,
        credentials, blockBytes, memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight,
        maxAttempts, attemptTimeout, connectTimeout, readAheadBlocks, revalidate);
  }

  public ObjectStoreSettings withCredentials(AwsCredentialsProvider credentials) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, credentials, blockBytes,
        memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight, maxAttempts, attemptTimeout,
        connectTimeout, readAheadBlocks, revalidate);
  }

  public ObjectStoreSettings withCaches(int blockBytes, long memoryCacheBytes, Path cacheDir,
      long diskCacheBytes) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, credentials, blockBytes,
        memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight, maxAttempts, attemptTimeout,
        connectTimeout, readAheadBlocks, revalidate);
  }

  /** Blocks fetched ahead of reads in order; 0 for none (tests counting requests). */
  public ObjectStoreSettings withReadAhead(int blocks) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, credentials, blockBytes,
        memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight, maxAttempts, attemptTimeout,
        connectTimeout, blocks, revalidate);
  }

  /** How long a look at an object answers later lookups of it; zero for none. */
  public ObjectStoreSettings withRevalidate(Duration interval) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, credentials, blockBytes,
        memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight, maxAttempts, attemptTimeout,
        connectTimeout, readAheadBlocks, interval);
  }

  public ObjectStoreSettings withRequests(int maxInFlight, int maxAttempts,
      Duration attemptTimeout, Duration connectTimeout) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, credentials, blockBytes,
        memoryCacheBytes, cacheDir, diskCacheBytes, maxInFlight, maxAttempts, attemptTimeout,
        connectTimeout, readAheadBlocks, revalidate);
  }
}
