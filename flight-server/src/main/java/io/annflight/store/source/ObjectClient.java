package io.annflight.store.source;

import io.annflight.store.source.ObjectStoreException.Kind;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The requests the server sends to an S3-compatible store: HEAD an object, list under a
 * prefix, GET a byte range of one ETag. Each is bounded in time, retried with exponential
 * backoff and full jitter on throttling, 5xx and timeouts, and counted; at most
 * {@code maxInFlight} run at once. Failures become {@link ObjectStoreException}s naming the
 * object, or "absent" where absence is an answer. Credentials are never logged or shown.
 */
final class ObjectClient implements AutoCloseable {
  private final S3Client s3;
  private final Semaphore inFlight;
  private final ObjectStoreMetrics metrics;
  private final String endpointName;

  ObjectClient(ObjectStoreSettings settings, ObjectStoreMetrics metrics) {
    this.metrics = metrics;
    this.inFlight = new Semaphore(settings.maxInFlight(), true);
    this.endpointName = settings.endpoint() == null ? "AWS S3" : settings.endpoint().toString();
    // The JDK keeps 5 idle connections per host unless told; keep as many as may be in flight.
    if (System.getProperty("http.maxConnections") == null) {
      System.setProperty("http.maxConnections", String.valueOf(settings.maxInFlight()));
    }
    var builder = S3Client.builder()
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(settings.connectTimeout())
            .socketTimeout(settings.attemptTimeout()))
        .region(Region.of(settings.region()))
        .forcePathStyle(settings.pathStyle())
        .credentialsProvider(settings.credentials() != null ? settings.credentials()
            : DefaultCredentialsProvider.builder().build())
        // Ranged reads carry no whole-object checksum; the ETag check is ours.
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o
            .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(settings.maxAttempts())
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(50),
                    Duration.ofSeconds(5)))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(
                    Duration.ofMillis(200), Duration.ofSeconds(10)))
                // No shared token bucket: one failing store must not stop retries elsewhere.
                .circuitBreakerEnabled(false)
                .build())
            .apiCallAttemptTimeout(settings.attemptTimeout())
            .apiCallTimeout(settings.attemptTimeout().multipliedBy(settings.maxAttempts())
                .plusSeconds(30))
            .addExecutionInterceptor(new AttemptCounter(metrics)));
    if (settings.endpoint() != null) {
      builder.endpointOverride(settings.endpoint());
    }
    this.s3 = builder.build();
  }

  /** Counts tries beyond the first of each call. */
  private static final class AttemptCounter implements ExecutionInterceptor {
    private final ObjectStoreMetrics metrics;

    AttemptCounter(ObjectStoreMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context,
        ExecutionAttributes attributes) {
      Integer tries = attributes.getAttribute(TRIES);
      int n = tries == null ? 1 : tries + 1;
      attributes.putAttribute(TRIES, n);
      if (n > 1) {
        metrics.retries.increment();
      }
    }

    private static final software.amazon.awssdk.core.interceptor.ExecutionAttribute<Integer>
        TRIES = new software.amazon.awssdk.core.interceptor.ExecutionAttribute<>(
            "annflight.tries");
  }

  /** The object's current version, or null when there is no such key. */
  ObjectVersion head(String bucket, String key) {
    try {
      HeadObjectResponse r = call(() -> s3.headObject(b -> b.bucket(bucket).key(key)));
      return new ObjectVersion(bucket, key, r.eTag(), r.contentLength(),
          r.lastModified() == null ? 0 : r.lastModified().toEpochMilli());
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return null;
      }
      throw fault(e, uri(bucket, key));
    } catch (SdkException e) {
      throw fault(e, uri(bucket, key));
    }
  }

  /** One page of what lies under {@code prefix}. */
  record Listing(List<ObjectVersion> objects, List<String> prefixes, String next) {}

  /**
   * Objects (and, with a delimiter, the "directories") under {@code prefix}, one page from
   * {@code token}.
   *
   * @throws NoSuchFileException when the bucket does not exist
   */
  Listing list(String bucket, String prefix, boolean delimited, int maxKeys, String token)
      throws NoSuchFileException {
    ListObjectsV2Request.Builder req = ListObjectsV2Request.builder().bucket(bucket)
        .prefix(prefix).maxKeys(maxKeys).continuationToken(token);
    if (delimited) {
      req.delimiter("/");
    }
    try {
      ListObjectsV2Response r = call(() -> s3.listObjectsV2(req.build()));
      List<ObjectVersion> objects = new ArrayList<>();
      for (S3Object o : r.contents()) {
        objects.add(new ObjectVersion(bucket, o.key(), o.eTag(), o.size(),
            o.lastModified() == null ? 0 : o.lastModified().toEpochMilli()));
      }
      List<String> prefixes = r.commonPrefixes().stream().map(CommonPrefix::prefix).toList();
      return new Listing(objects, prefixes,
          Boolean.TRUE.equals(r.isTruncated()) ? r.nextContinuationToken() : null);
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw new NoSuchFileException("s3://" + bucket + "/" + prefix, null,
            "bucket \"" + bucket + "\" does not exist at " + endpointName);
      }
      throw fault(e, uri(bucket, prefix));
    } catch (SdkException e) {
      throw fault(e, uri(bucket, prefix));
    }
  }

  /**
   * Bytes {@code [start, end)} of exactly this version of the object.
   *
   * @throws ObjectStoreException CHANGED when the object now has another ETag, NOT_FOUND when
   *     it was removed
   */
  byte[] get(ObjectVersion v, long start, long end) {
    long t0 = System.nanoTime();
    try {
      ResponseBytes<GetObjectResponse> r = call(() -> s3.getObjectAsBytes(b -> b
          .bucket(v.bucket()).key(v.key()).ifMatch(v.etag())
          .range("bytes=" + start + "-" + (end - 1))));
      byte[] bytes = r.asByteArrayUnsafe();
      metrics.getRequests.increment();
      metrics.bytesFetched.add(bytes.length);
      metrics.getTook((System.nanoTime() - t0) / 1e9);
      if (bytes.length != end - start) {
        throw new ObjectStoreException(Kind.CHANGED, v.uri() + ": asked for bytes [" + start
            + ", " + end + ") and got " + bytes.length + "; the object changed since it was"
            + " opened, request again", null);
      }
      return bytes;
    } catch (S3Exception e) {
      if (e.statusCode() == 412) {
        throw new ObjectStoreException(Kind.CHANGED, v.uri() + ": the object was replaced in"
            + " the bucket since it was opened (its ETag is no longer " + v.etag()
            + "); request again to read the new one", e);
      }
      throw fault(e, v.uri());
    } catch (SdkException e) {
      throw fault(e, v.uri());
    }
  }

  /** Runs one call inside the bound on requests in flight, counting it. */
  private <T> T call(Supplier<T> request) {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ObjectStoreException(Kind.UNAVAILABLE, "interrupted while waiting to send a"
          + " request to " + endpointName, e);
    }
    try {
      metrics.requests.increment();
      return request.get();
    } catch (RuntimeException e) {
      metrics.failures.increment();
      throw e;
    } finally {
      inFlight.release();
    }
  }

  private static String uri(String bucket, String key) {
    return "s3://" + bucket + "/" + key;
  }

  /** What a failed request means for the client, naming the object, never the credentials. */
  private ObjectStoreException fault(SdkException e, String what) {
    if (e instanceof S3Exception s) {
      int status = s.statusCode();
      String code = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode();
      String says = code == null ? "HTTP " + status : code + " (HTTP " + status + ")";
      if (status == 404) {
        return new ObjectStoreException(Kind.NOT_FOUND, what + ": not found at " + endpointName
            + ": " + says, e);
      }
      if (status == 401 || status == 403) {
        return new ObjectStoreException(Kind.DENIED, what + ": the object store refused the"
            + " server's credentials or their access to it: " + says, e);
      }
      return new ObjectStoreException(Kind.UNAVAILABLE, what + ": the object store at "
          + endpointName + " failed the request after retries: " + says, e);
    }
    String why;
    if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException
        || has(e, SocketTimeoutException.class)) {
      why = "timed out";
    } else if (has(e, ConnectException.class) || has(e, UnknownHostException.class)) {
      why = "cannot be reached";
    } else if (e instanceof SdkClientException && e.getMessage() != null
        && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("credential")) {
      return new ObjectStoreException(Kind.DENIED, what + ": no credentials for the object"
          + " store (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or a role)", e);
    } else {
      why = "failed: " + e.getClass().getSimpleName();
    }
    return new ObjectStoreException(Kind.UNAVAILABLE, what + ": the object store at "
        + endpointName + " " + why, e);
  }

  private static boolean has(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
      if (c instanceof UncheckedIOException u && type.isInstance(u.getCause())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    s3.close();
  }
}
