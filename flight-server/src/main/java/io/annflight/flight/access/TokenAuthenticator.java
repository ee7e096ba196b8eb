package io.annflight.flight.access;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens ({@code authorization: Bearer <token>}) checked against a {@link TokenFile}:
 * the token's SHA-256 compared with every entry in constant time; the caller's identity is the
 * entry's name. No or an unknown token is {@code UNAUTHENTICATED}. The file is read again when
 * it changes (checked at most once a second), so tokens are added and revoked without a
 * restart; a file that no longer parses keeps the previous tokens and logs why. Tokens are
 * never logged.
 */
public final class TokenAuthenticator implements CallHeaderAuthenticator {
  private static final Logger LOG = LoggerFactory.getLogger(TokenAuthenticator.class);
  private static final String PREFIX = "Bearer ";
  /** How often the file's modification time is looked at. */
  public static final long RECHECK_NANOS = 1_000_000_000L;

  private final Path file;
  private final long recheckNanos;
  private volatile TokenFile tokens;
  private volatile FileTime loadedAt;
  private volatile long checkedAt;
  private final Map<String, Grants> byName = new ConcurrentHashMap<>();

  public TokenAuthenticator(Path file) {
    this(file, RECHECK_NANOS);
  }

  /** @param recheckNanos how often to look for a changed file (0: on every call) */
  public TokenAuthenticator(Path file, long recheckNanos) {
    this.file = file;
    this.recheckNanos = recheckNanos;
    this.tokens = TokenFile.load(file);
    this.loadedAt = modified();
    this.checkedAt = System.nanoTime();
    index();
  }

  @Override
  public AuthResult authenticate(CallHeaders headers) {
    reloadIfChanged();
    String header = headers.get("authorization");
    if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      throw CallStatus.UNAUTHENTICATED.withDescription("this server needs a bearer token"
          + " (header authorization: Bearer <token>)").toRuntimeException();
    }
    byte[] hash = sha256(header.substring(PREFIX.length()).trim());
    String found = null;
    for (TokenFile.Entry e : tokens.entries()) {
      // Every entry is compared, in constant time each: timing tells nothing about tokens.
      if (MessageDigest.isEqual(hash, e.sha256()) && found == null) {
        found = e.name();
      }
    }
    if (found == null) {
      throw CallStatus.UNAUTHENTICATED.withDescription("unknown or revoked token")
          .toRuntimeException();
    }
    String name = found;
    return () -> name;
  }

  /** The grants of an authenticated caller; none (nothing granted) for an unknown name. */
  public Grants grants(String peerIdentity) {
    Grants g = byName.get(peerIdentity == null ? "" : peerIdentity);
    return g != null ? g : new Grants(String.valueOf(peerIdentity), java.util.Set.of(), false);
  }

  private void index() {
    Map<String, Grants> next = new ConcurrentHashMap<>();
    tokens.entries().forEach(e -> next.put(e.name(), e.grants()));
    byName.keySet().retainAll(next.keySet());
    byName.putAll(next);
  }

  private void reloadIfChanged() {
    long now = System.nanoTime();
    if (recheckNanos > 0 && now - checkedAt < recheckNanos) {
      return;
    }
    checkedAt = now;
    FileTime m = modified();
    if (m == null || m.equals(loadedAt)) {
      return;
    }
    synchronized (this) {
      if (m.equals(loadedAt)) {
        return;
      }
      try {
        tokens = TokenFile.load(file);
        index();
        LOG.info("reloaded {} tokens from {}", tokens.entries().size(), file);
      } catch (IllegalArgumentException e) {
        LOG.warn("token file changed but cannot be used, keeping the previous tokens: {}",
            e.getMessage());
      }
      loadedAt = m;
    }
  }

  private FileTime modified() {
    try {
      return Files.getLastModifiedTime(file);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
