package io.annflight.cli;

import io.annflight.store.source.ObjectStoreSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code serve}'s options for stores in S3-compatible buckets ({@code s3://} data roots and
 * store paths). Credentials are not options: they come from the AWS SDK's default chain.
 */
public final class ObjectStorageOptions {

  @Option(names = "--s3-endpoint", paramLabel = "URL",
      description = "An S3-compatible endpoint (MinIO, Ceph, S3Proxy: http://host:9000);"
          + " default: AWS S3 in --s3-region. Credentials come from the AWS SDK's default chain"
          + " (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role).")
  String endpoint;

  @Option(names = "--s3-region", paramLabel = "REGION",
      description = "Region requests are signed for (default: AWS_REGION, else us-east-1).")
  String region;

  @Option(names = "--s3-path-style",
      description = "Address buckets as ENDPOINT/bucket/key rather than bucket.ENDPOINT/key"
          + " (most S3-compatible stores need it).")
  boolean pathStyle;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "Keep blocks fetched from buckets on disk here, across restarts (default:"
          + " memory only).")
  Path cacheDir;

  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "10g",
      description = "Most the --cache-dir may hold, e.g. 500m, 20g (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--s3-memory-cache", paramLabel = "SIZE", defaultValue = "256m",
      description = "Heap for blocks fetched from buckets, shared by every stream; 0: none"
          + " (default: ${DEFAULT-VALUE}).")
  String memoryCache;

  @Option(names = "--s3-block-size", paramLabel = "SIZE", defaultValue = "1m",
      description = "The unit of ranged reads and of the caches, a power of two (default:"
          + " ${DEFAULT-VALUE}).")
  String blockSize;

  @Option(names = "--s3-read-ahead", paramLabel = "BLOCKS", defaultValue = "8",
      description = "Blocks fetched ahead of a file read in order (sequential and"
          + " block-shuffled epochs); 0: none (default: ${DEFAULT-VALUE}).")
  int readAhead;

  @Option(names = "--s3-revalidate-ms", paramLabel = "MS",
      defaultValue = "1000",
      description = "How long what the server saw of an object (its ETag) answers later"
          + " lookups: a change in the bucket is seen by requests starting this long after it;"
          + " streams always read the version they opened. 0: ask at every lookup (default:"
          + " ${DEFAULT-VALUE}).")
  long revalidateMillis;

  @Option(names = "--s3-max-requests", paramLabel = "N",
      defaultValue = "" + ObjectStoreSettings.DEFAULT_MAX_IN_FLIGHT,
      description = "Requests to the object store in flight at once, for the whole server"
          + " (default: ${DEFAULT-VALUE}).")
  int maxRequests;

  @Option(names = "--s3-attempts", paramLabel = "N", defaultValue = "5",
      description = "Tries of a request that was throttled, failed with 5xx or timed out,"
          + " with exponential backoff and jitter between them (default: ${DEFAULT-VALUE}).")
  int attempts;

  @Option(names = "--s3-timeout-seconds", paramLabel = "S", defaultValue = "30",
      description = "Limit of one try of a request (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  ObjectStoreSettings settings() {
    URI uri = null;
    if (endpoint != null) {
      try {
        uri = new URI(endpoint);
      } catch (URISyntaxException e) {
        throw new ConfigException("--s3-endpoint \"" + endpoint + "\" is not a URL: "
            + e.getMessage());
      }
      if (uri.getScheme() == null || uri.getHost() == null) {
        throw new ConfigException("--s3-endpoint \"" + endpoint + "\" needs a scheme and a"
            + " host, like http://127.0.0.1:9000");
      }
    }
    long block = size("--s3-block-size", blockSize);
    if (block < 512 || block > (64 << 20) || Long.bitCount(block) != 1) {
      throw new ConfigException("--s3-block-size must be a power of two from 512 bytes to"
          + " 64m, got " + blockSize);
    }
    if (readAhead < 0 || readAhead > 1024) {
      throw new ConfigException("--s3-read-ahead must be from 0 to 1024 blocks, got "
          + readAhead);
    }
    if (revalidateMillis < 0 || revalidateMillis > 3_600_000) {
      throw new ConfigException("--s3-revalidate-ms must be from 0 to 3600000, got "
          + revalidateMillis);
    }
    if (maxRequests < 1 || attempts < 1 || timeoutSeconds < 1) {
      throw new ConfigException("--s3-max-requests, --s3-attempts and --s3-timeout-seconds"
          + " must be >= 1");
    }
    ObjectStoreSettings d = ObjectStoreSettings.defaults();
    return d.withEndpoint(uri, region, pathStyle)
        .withCaches((int) block, size("--s3-memory-cache", memoryCache), cacheDir,
            size("--cache-size", cacheSize))
        .withRequests(maxRequests, attempts, java.time.Duration.ofSeconds(timeoutSeconds),
            d.connectTimeout())
        .withReadAhead(readAhead)
        .withRevalidate(java.time.Duration.ofMillis(revalidateMillis));
  }

  /** {@code 123}, {@code 64k}, {@code 500m}, {@code 20g}: bytes. */
  static long size(String option, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'k' -> unit = 1L << 10;
        case 'm' -> unit = 1L << 20;
        case 'g' -> unit = 1L << 30;
        case 't' -> unit = 1L << 40;
        default -> unit = 1;
      }
      if (unit > 1) {
        t = t.substring(0, t.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(t);
      if (n < 0 || n > Long.MAX_VALUE / unit) {
        throw new NumberFormatException();
      }
      return n * unit;
    } catch (NumberFormatException e) {
      throw new ConfigException(option + " \"" + text + "\" is not a size like 512m or 20g");
    }
  }
}
