package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStream;
import com.scalableminds.bloscjava.Blosc;
import io.annflight.store.zarr.ChunkCodec.CodecException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * The compressors anndata's Zarr stores use: v2 numcodecs compressors by their {@code id}, and
 * the v3 bytes-to-bytes codecs by their {@code name} ({@code zstd}, {@code gzip},
 * {@code blosc}, {@code crc32c}).
 */
final class ChunkCodecs {

  private ChunkCodecs() {}

  /** Codec for a {@code compressor} JSON value, or null when the id is not one we read. */
  static ChunkCodec forConfig(JsonNode compressor) {
    if (compressor == null || compressor.isNull()) {
      return NONE;
    }
    String id = compressor.path("id").asText("");
    return switch (id) {
      case "blosc" -> BLOSC;
      case "zlib" -> ZLIB;
      case "gzip" -> GZIP;
      case "zstd" -> ZSTD;
      case "lz4" -> LZ4;
      default -> null;
    };
  }

  /** Codec for a v3 bytes-to-bytes codec entry, or null when the name is not one we read. */
  static ChunkCodec forV3(JsonNode codec) {
    return switch (codec.path("name").asText("")) {
      case "zstd" -> ZSTD;
      case "gzip" -> GZIP;
      case "blosc" -> BLOSC;
      case "crc32c" -> CRC32C;
      default -> null;
    };
  }

  private static int limit(int expectedSize, int maxSize) {
    return expectedSize >= 0 ? expectedSize : maxSize;
  }

  private static CodecException tooLarge(String codec, long size, int expectedSize, int limit) {
    return new CodecException(codec + " decodes to " + (size < 0 ? "more than " + limit : size)
        + " bytes, " + (expectedSize >= 0 ? "expected " + expectedSize
            : "more than a chunk of this array can hold (" + limit + ")")
        + " (corrupted, or a compression bomb)");
  }

  /** Reads a stream up to {@code limit} bytes, failing if it holds more. */
  private static byte[] readBounded(InputStream in, String codec, int expectedSize, int limit)
      throws IOException, CodecException {
    byte[] out = in.readNBytes(limit);
    if (in.read() >= 0) {
      throw tooLarge(codec, -1, expectedSize, limit);
    }
    return out;
  }

  /** crc32c (v3): the data, then its CRC-32C as 4 little-endian bytes. */
  static final ChunkCodec CRC32C =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          if (encoded.length < 4) {
            throw new CodecException("crc32c: " + encoded.length + " bytes hold no checksum");
          }
          int n = encoded.length - 4;
          java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
          crc.update(encoded, 0, n);
          int stored = ByteBuffer.wrap(encoded, n, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
          if ((int) crc.getValue() != stored) {
            throw new CodecException(String.format("crc32c mismatch: stored %08x, computed %08x"
                + " (the bytes were damaged)", stored, (int) crc.getValue()));
          }
          return java.util.Arrays.copyOf(encoded, n);
        }

        @Override
        public int addedBytes() {
          return 4;
        }

        @Override
        public boolean expands() {
          return false;
        }

        @Override
        public String describe() {
          return "crc32c";
        }
      };

  static final ChunkCodec NONE =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize) {
          return encoded;
        }

        @Override
        public boolean expands() {
          return false;
        }

        @Override
        public String describe() {
          return "none";
        }
      };

  /** Blosc: 16-byte header (version, flags, typesize, nbytes, blocksize, cbytes, all LE). */
  static final ChunkCodec BLOSC =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          if (encoded.length < 16) {
            throw new CodecException("blosc chunk of " + encoded.length + " bytes has no header");
          }
          ByteBuffer header = ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN);
          long nbytes = header.getInt(4) & 0xFFFFFFFFL;
          long cbytes = header.getInt(12) & 0xFFFFFFFFL;
          // Checked here so a truncated file never reaches native code with a bad length.
          if (cbytes != encoded.length) {
            throw new CodecException(
                "blosc header says " + cbytes + " compressed bytes, file has " + encoded.length);
          }
          if (expectedSize >= 0 && nbytes != expectedSize) {
            throw new CodecException(
                "blosc header says " + nbytes + " bytes decoded, expected " + expectedSize);
          }
          if (nbytes > limit(expectedSize, maxSize)) {
            throw tooLarge("blosc", nbytes, expectedSize, limit(expectedSize, maxSize));
          }
          try {
            return Blosc.decompress(encoded);
          } catch (RuntimeException e) {
            throw new CodecException("blosc: " + e.getMessage(), e);
          }
        }

        @Override
        public String describe() {
          return "blosc";
        }
      };

  static final ChunkCodec ZLIB =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          Inflater inflater = new Inflater();
          try {
            inflater.setInput(encoded);
            int limit = limit(expectedSize, maxSize);
            ByteArrayOutputStream out = new ByteArrayOutputStream(
                expectedSize > 0 ? expectedSize : Math.min(limit, Math.max(encoded.length * 4, 64)));
            byte[] buf = new byte[1 << 16];
            while (!inflater.finished()) {
              int n = inflater.inflate(buf);
              if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                throw new CodecException("zlib stream ends early (truncated)");
              }
              if ((long) out.size() + n > limit) {
                throw tooLarge("zlib", -1, expectedSize, limit);
              }
              out.write(buf, 0, n);
            }
            return out.toByteArray();
          } catch (DataFormatException e) {
            throw new CodecException("zlib: " + e.getMessage(), e);
          } finally {
            inflater.end();
          }
        }

        @Override
        public String describe() {
          return "zlib";
        }
      };

  static final ChunkCodec GZIP =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(encoded))) {
            return readBounded(in, "gzip", expectedSize, limit(expectedSize, maxSize));
          } catch (IOException e) {
            throw new CodecException("gzip: " + e.getMessage(), e);
          }
        }

        @Override
        public String describe() {
          return "gzip";
        }
      };

  static final ChunkCodec ZSTD =
      new ChunkCodec() {
        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          try {
            long declared = Zstd.getFrameContentSize(encoded);
            int limit = limit(expectedSize, maxSize);
            if (declared > limit || (expectedSize >= 0 && declared >= 0 && declared != expectedSize)) {
              throw tooLarge("zstd", declared, expectedSize, limit);
            }
            long size = expectedSize >= 0 ? expectedSize : declared;
            if (size >= 0) {
              byte[] out = new byte[(int) size];
              long n = Zstd.decompressByteArray(out, 0, out.length, encoded, 0, encoded.length);
              if (Zstd.isError(n)) {
                throw new CodecException("zstd: " + Zstd.getErrorName(n));
              }
              if (n != size) {
                throw new CodecException("zstd decoded " + n + " bytes, expected " + size);
              }
              return out;
            }
            // Frame without a content size: stream it.
            try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(encoded))) {
              return readBounded(in, "zstd", expectedSize, limit);
            }
          } catch (CodecException e) {
            throw e;
          } catch (IOException | RuntimeException e) {
            throw new CodecException("zstd: " + e.getMessage(), e);
          }
        }

        @Override
        public String describe() {
          return "zstd";
        }
      };

  /** numcodecs LZ4: a 4-byte little-endian decoded size, then one LZ4 block. */
  static final ChunkCodec LZ4 =
      new ChunkCodec() {
        private final LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();

        @Override
        public byte[] decode(byte[] encoded, int expectedSize, int maxSize)
            throws CodecException {
          if (encoded.length < 4) {
            throw new CodecException("lz4 chunk of " + encoded.length + " bytes has no header");
          }
          long size = ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN).getInt(0) & 0xFFFFFFFFL;
          if ((expectedSize >= 0 && size != expectedSize) || size > limit(expectedSize, maxSize)) {
            throw new CodecException("lz4 header says " + size + " bytes, expected " + expectedSize);
          }
          byte[] out = new byte[(int) size];
          try {
            int n = lz4.decompress(encoded, 4, encoded.length - 4, out, 0, out.length);
            if (n != size) {
              throw new CodecException("lz4 decoded " + n + " bytes, header says " + size);
            }
            return out;
          } catch (LZ4Exception e) {
            throw new CodecException("lz4: " + e.getMessage(), e);
          }
        }

        @Override
        public String describe() {
          return "lz4";
        }
      };
}
