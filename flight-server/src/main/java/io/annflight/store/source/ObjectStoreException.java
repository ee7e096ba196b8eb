package io.annflight.store.source;

/**
 * An object store refused or failed a request, after retries. The message names the object (or
 * bucket) and says what went wrong; the kind says how a client should take it. Unchecked so that
 * it passes through libraries (jhdf) that only expect I/O errors, and is found again in the
 * cause chain by whoever maps failures to statuses.
 */
public final class ObjectStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure. */
  public enum Kind {
    /** The bucket or key does not exist. */
    NOT_FOUND,
    /** The credentials were refused, or they may not read it. */
    DENIED,
    /** The store cannot be reached, timed out, or kept failing (throttling, 5xx). */
    UNAVAILABLE,
    /** The object changed since it was opened; request again to read the new one. */
    CHANGED
  }

  private final Kind kind;

  public ObjectStoreException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** The first object-store failure in {@code t}'s cause chain, or null. */
  public static ObjectStoreException in(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ObjectStoreException o) {
        return o;
      }
      for (Throwable s : c.getSuppressed()) {
        if (s instanceof ObjectStoreException o) {
          return o;
        }
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }
}
