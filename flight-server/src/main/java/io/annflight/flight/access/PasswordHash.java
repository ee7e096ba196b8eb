package io.annflight.flight.access;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A password as the token file stores it: {@code pbkdf2-sha256$<iterations>$<salt>$<hash>}
 * (salt and hash in base64), PBKDF2 with HMAC-SHA-256 as Python's
 * {@code hashlib.pbkdf2_hmac("sha256", password, salt, iterations)} computes it, so either
 * side can make one. Checked in constant time; the password itself is never kept.
 */
public final class PasswordHash {
  public static final String SCHEME = "pbkdf2-sha256";
  /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
  public static final int DEFAULT_ITERATIONS = 600_000;
  /** Fewer than this is refused: such a hash is too cheap to guess against. */
  public static final int MIN_ITERATIONS = 10_000;

  private final int iterations;
  private final byte[] salt;
  private final byte[] hash;

  private PasswordHash(int iterations, byte[] salt, byte[] hash) {
    this.iterations = iterations;
    this.salt = salt;
    this.hash = hash;
  }

  /**
   * @throws IllegalArgumentException saying what the text lacks (never echoing it)
   */
  public static PasswordHash parse(String text) {
    String[] parts = text.split("\\$", -1);
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      throw new IllegalArgumentException("\"password\" must be " + SCHEME
          + "$<iterations>$<base64 salt>$<base64 hash> (annflight hash-password makes one)");
    }
    int iterations;
    byte[] salt;
    byte[] hash;
    try {
      iterations = Integer.parseInt(parts[1]);
      salt = Base64.getDecoder().decode(parts[2]);
      hash = Base64.getDecoder().decode(parts[3]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"password\": iterations must be a number and salt"
          + " and hash base64");
    }
    if (iterations < MIN_ITERATIONS) {
      throw new IllegalArgumentException("\"password\": " + iterations + " iterations are too"
          + " few to resist guessing; use at least " + MIN_ITERATIONS + " (default "
          + DEFAULT_ITERATIONS + ")");
    }
    if (salt.length < 8 || hash.length < 16) {
      throw new IllegalArgumentException("\"password\": the salt needs at least 8 bytes and the"
          + " hash at least 16");
    }
    return new PasswordHash(iterations, salt, hash);
  }

  /** A new hash of {@code password} with a random 16-byte salt. */
  public static String create(char[] password, int iterations) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    Base64.Encoder b64 = Base64.getEncoder();
    return SCHEME + "$" + iterations + "$" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(derive(password, salt, iterations, 32));
  }

  /** Whether {@code password} is the one hashed, compared in constant time. */
  public boolean matches(String password) {
    return MessageDigest.isEqual(hash, derive(password.toCharArray(), salt, iterations,
        hash.length));
  }

  private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec)
          .getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this JVM", e);
    } finally {
      spec.clearPassword();
    }
  }

  /** A hash nobody's password matches, to spend the same time on unknown user names. */
  static PasswordHash decoy() {
    byte[] salt = "annflight-decoy!".getBytes(StandardCharsets.US_ASCII);
    return new PasswordHash(DEFAULT_ITERATIONS, salt, new byte[32]);
  }
}
