package io.annflight.flight.access;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens ({@code authorization: Bearer <token>}) checked against a {@link TokenFile}:
 * the token's SHA-256 compared with every entry in constant time; the caller's identity is the
 * entry's name. Users of the file sign in with Flight's basic handshake
 * ({@code authorization: Basic ...}, as pyarrow's {@code authenticate_basic_token} sends it):
 * the password is checked against its PBKDF2 hash and the answer carries a new bearer token
 * for that user, valid for the file's {@code issued_token_seconds} and only while the user is
 * in the file. No, an unknown or an expired token, or a wrong password, is
 * {@code UNAUTHENTICATED}. The file is read again when
 * it changes (checked at most once a second), so tokens are added and revoked without a
 * restart; a file that no longer parses keeps the previous tokens and logs why. Tokens are
 * never logged.
 */
public final class TokenAuthenticator implements CallHeaderAuthenticator {
  private static final Logger LOG = LoggerFactory.getLogger(TokenAuthenticator.class);
  private static final String PREFIX = "Bearer ";
  private static final String BASIC = "Basic ";
  /** Issued tokens kept at most; past it the one expiring first goes. */
  static final int MAX_ISSUED = 100_000;
  private static final PasswordHash DECOY = PasswordHash.decoy();

  /** A token issued by the handshake: whose, and until when (on {@link #clock}). */
  private record Issued(String name, long expiresAt) {}

  private final Map<String, Issued> issued = new ConcurrentHashMap<>();
  /** PBKDF2 is slow on purpose: a few checks at once, so sign-ins cannot take every core. */
  private final java.util.concurrent.Semaphore passwordChecks =
      new java.util.concurrent.Semaphore(2);
  private final java.security.SecureRandom random = new java.security.SecureRandom();
  /** How often the file's modification time is looked at. */
  public static final long RECHECK_NANOS = 1_000_000_000L;

  private final Path file;
  private final long recheckNanos;
  /** Monotonic nanoseconds: {@link System#nanoTime}, or a test's own clock. */
  private final LongSupplier clock;
  private volatile TokenFile tokens;
  private volatile FileTime loadedAt;
  private volatile long checkedAt;
  private final Map<String, Grants> byName = new ConcurrentHashMap<>();

  public TokenAuthenticator(Path file) {
    this(file, RECHECK_NANOS);
  }

  /** @param recheckNanos how often to look for a changed file (0: on every call) */
  public TokenAuthenticator(Path file, long recheckNanos) {
    this(file, recheckNanos, System::nanoTime);
  }

  /** With {@code clock} (monotonic nanoseconds) for tokens' lives and the file's rechecks. */
  public TokenAuthenticator(Path file, long recheckNanos, LongSupplier clock) {
    this.file = file;
    this.recheckNanos = recheckNanos;
    this.clock = clock;
    this.tokens = TokenFile.load(file);
    this.loadedAt = modified();
    this.checkedAt = clock.getAsLong();
    index();
  }

  @Override
  public AuthResult authenticate(CallHeaders headers) {
    reloadIfChanged();
    String header = headers.get("authorization");
    if (header != null && header.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
      return signIn(header.substring(BASIC.length()).trim());
    }
    if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      throw unauthenticated("this server needs a bearer token (header authorization: Bearer"
          + " <token>, or sign in with Flight's basic handshake)");
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
      found = issuedTo(HexFormat.of().formatHex(hash));
    }
    String name = found;
    return () -> name;
  }

  /** The user a handshake token was issued to, while it lives and the user is in the file. */
  private String issuedTo(String tokenHash) {
    Issued i = issued.get(tokenHash);
    if (i == null) {
      throw unauthenticated("unknown or revoked token");
    }
    if (clock.getAsLong() - i.expiresAt() > 0) {
      issued.remove(tokenHash);
      throw unauthenticated("this token has expired; sign in again");
    }
    if (tokens.users().stream().noneMatch(u -> u.name().equals(i.name()))) {
      issued.remove(tokenHash);
      throw unauthenticated("unknown or revoked token");
    }
    return i.name();
  }

  /** Basic credentials: checked, then answered with a bearer token for the user. */
  private AuthResult signIn(String credentials) {
    String text;
    try {
      text = new String(Base64.getDecoder().decode(credentials), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw unauthenticated("basic credentials must be base64 of user:password");
    }
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw unauthenticated("basic credentials must be base64 of user:password");
    }
    String user = text.substring(0, colon);
    String password = text.substring(colon + 1);
    TokenFile.User found = tokens.users().stream().filter(u -> u.name().equals(user))
        .findFirst().orElse(null);
    boolean ok;
    passwordChecks.acquireUninterruptibly();
    try {
      // An unknown name costs as much as a wrong password: timing tells no names.
      ok = (found != null ? found.password() : DECOY).matches(password) && found != null;
    } finally {
      passwordChecks.release();
    }
    if (!ok) {
      LOG.info("sign-in refused for user \"{}\"", user);
      throw unauthenticated("unknown user or wrong password");
    }
    String token = issue(found.name());
    return new AuthResult() {
      @Override
      public String getPeerIdentity() {
        return found.name();
      }

      @Override
      public void appendToOutgoingHeaders(CallHeaders outgoing) {
        outgoing.insert("authorization", PREFIX + token);
      }
    };
  }

  private String issue(String name) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    long now = clock.getAsLong();
    issued.values().removeIf(i -> now - i.expiresAt() > 0);
    if (issued.size() >= MAX_ISSUED) {
      issued.entrySet().stream().min(java.util.Comparator.comparingLong(
          (Map.Entry<String, Issued> e) -> e.getValue().expiresAt()))
          .ifPresent(e -> issued.remove(e.getKey()));
    }
    issued.put(HexFormat.of().formatHex(sha256(token)),
        new Issued(name, now + tokens.issuedTokenLife().toNanos()));
    return token;
  }

  private static RuntimeException unauthenticated(String message) {
    return CallStatus.UNAUTHENTICATED.withDescription(message).toRuntimeException();
  }

  /** The grants of an authenticated caller; none (nothing granted) for an unknown name. */
  public Grants grants(String peerIdentity) {
    Grants g = byName.get(peerIdentity == null ? "" : peerIdentity);
    return g != null ? g : new Grants(String.valueOf(peerIdentity), java.util.Set.of(), false);
  }

  private void index() {
    Map<String, Grants> next = new ConcurrentHashMap<>();
    tokens.entries().forEach(e -> next.put(e.name(), e.grants()));
    tokens.users().forEach(u -> next.put(u.name(), u.grants()));
    byName.keySet().retainAll(next.keySet());
    byName.putAll(next);
  }

  private void reloadIfChanged() {
    long now = clock.getAsLong();
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
        LOG.info("reloaded {} tokens and {} users from {}", tokens.entries().size(),
            tokens.users().size(), file);
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
