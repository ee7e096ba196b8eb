package io.annflight.store.zarr;

/**
 * Decompresses one Zarr chunk (the numcodecs {@code compressor} of a {@code .zarray}).
 * Implementations are stateless and thread-safe.
 */
interface ChunkCodec {

  /**
   * Decodes {@code encoded}.
   *
   * @param expectedSize the decoded size in bytes when known from the array metadata, else -1
   * @throws CodecException when the bytes are not valid for this codec (truncated, corrupted)
   */
  byte[] decode(byte[] encoded, int expectedSize) throws CodecException;

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
