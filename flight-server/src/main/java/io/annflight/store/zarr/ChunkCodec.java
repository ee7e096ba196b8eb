package io.annflight.store.zarr;

/**
 * Decodes one bytes-to-bytes stage of a Zarr chunk: a v2 {@code compressor} or a v3
 * bytes-to-bytes codec (compressors, {@code crc32c}). Implementations are stateless and
 * thread-safe, and never produce more than they are allowed: a chunk that claims (or
 * decompresses to) more than its array's chunk can hold is refused before it is allocated.
 */
interface ChunkCodec {

  /**
   * Decodes {@code encoded}.
   *
   * @param expectedSize the decoded size in bytes when known from the array metadata, else -1
   * @param maxSize the most the decoded bytes may take when the size is not known
   * @throws CodecException when the bytes are not valid for this codec (truncated, corrupted,
   *     or larger than allowed)
   */
  byte[] decode(byte[] encoded, int expectedSize, int maxSize) throws CodecException;

  /** Bytes encoding adds beyond what it was given (a checksum's 4), when fixed; else 0. */
  default int addedBytes() {
    return 0;
  }

  /** Whether decoding can yield more bytes than it was given (a compressor's can). */
  default boolean expands() {
    return true;
  }

  /** The numcodecs id and settings, for messages. */
  String describe();

  /** The bytes could not be decoded; the caller names the chunk file. */
  final class CodecException extends Exception {
    private static final long serialVersionUID = 1L;

    CodecException(String message) {
      super(message);
    }

    CodecException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
