package io.annflight.store.source;

/**
 * One version of an object in a bucket, as a HEAD or a listing saw it. Reads of it ask for
 * this ETag ({@code If-Match}), so bytes of a replacement are never mixed in.
 *
 * @param etag the ETag as the store sent it, quotes included
 * @param lastModifiedMillis when it was written (second resolution on most stores)
 */
public record ObjectVersion(String bucket, String key, String etag, long size,
    long lastModifiedMillis) {

  /** {@code s3://bucket/key}. */
  public String uri() {
    return "s3://" + bucket + "/" + key;
  }

  /** The value caches key this version by: bucket, key, ETag and time written. */
  public String identity() {
    return bucket + "/" + key + "@" + etag + "@" + lastModifiedMillis;
  }
}
