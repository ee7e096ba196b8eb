package io.annflight.store.source;

/**
 * A block of one version of an object: bytes {@code [index * blockBytes, ...)}. The version's
 * identity (bucket, key, ETag, time written) is part of the key, so a replaced object's blocks
 * are never found for the new one.
 */
record BlockKey(ObjectVersion version, int blockBytes, long index) {

  /** The name of the block in the disk cache: a hash, so any key makes a safe file name. */
  String fileName() {
    try {
      var sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] h = sha.digest((version.identity() + "\n" + blockBytes + "\n" + index)
          .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(h);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
