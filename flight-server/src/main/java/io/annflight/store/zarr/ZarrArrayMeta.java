package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.file.Path;
import java.util.List;

/**
 * How one Zarr array (v2 or v3) is stored, in the terms the reader works in: the shape, the
 * chunk that is decoded as a unit (the inner chunk of a sharded v3 array), the element type and
 * byte order, the bytes-to-bytes codecs in the order they were applied when writing (decoding
 * runs them backwards), whether elements are in Fortran order, the chunk keys, the fill value,
 * and the sharding (null when not sharded).
 */
record ZarrArrayMeta(
    long[] shape,
    int[] chunks,
    ZarrDtype dtype,
    List<ChunkCodec> codecs,
    boolean fortranOrder,
    ChunkKeys keys,
    JsonNode fillValue,
    Sharding sharding) {

  /**
   * A v3 {@code sharding_indexed} array: each file (shard) holds {@code chunksPerShard} inner
   * chunks and an index of (offset, length) pairs, little-endian uint64, at its start or end,
   * encoded by {@code indexCodecs} (crc32c, usually).
   */
  record Sharding(int[] chunksPerShard, List<ChunkCodec> indexCodecs, boolean indexAtEnd) {
    int chunksInShard() {
      int n = 1;
      for (int c : chunksPerShard) {
        n = Math.multiplyExact(n, c);
      }
      return n;
    }

    /** Bytes of the encoded index: 16 per inner chunk plus what the index codecs add. */
    long indexBytes() {
      long n = 16L * chunksInShard();
      for (ChunkCodec c : indexCodecs) {
        n += c.addedBytes();
      }
      return n;
    }
  }

  int rank() {
    return shape.length;
  }

  /** Elements in one (full, padded) chunk. */
  int chunkElements() {
    long n = 1;
    for (int c : chunks) {
      n *= c;
    }
    return (int) n;
  }

  /**
   * The most a decoded numeric chunk may take. Zarr writers aim at chunks of a few MiB; a
   * chunk claiming more is refused when the array is opened rather than allocated on a read.
   */
  static final long MAX_CHUNK_BYTES = 256L << 20;

  /** Checks that a chunk shape's element count and bytes fit one decoded chunk. */
  static void checkChunkSize(Path store, String element, int[] chunks, int width) {
    // A variable-length string element takes at least a reference once decoded.
    int bytesPerElement = width > 0 ? width : 8;
    long n = 1;
    for (int c : chunks) {
      n *= c;
      if (n * bytesPerElement > MAX_CHUNK_BYTES) {
        throw new UnsupportedLayoutException(store, element, "chunk shape "
            + java.util.Arrays.toString(chunks) + " holds more than " + (MAX_CHUNK_BYTES >> 20)
            + " MiB per chunk, more than annflight decodes at once");
      }
    }
  }

  static ZarrArrayMeta parseV2(Path store, String element, JsonNode json) {
    if (!json.isObject()) {
      throw bad(store, element, ".zarray is not a JSON object");
    }
    if (json.path("zarr_format").asInt(-1) != 2) {
      throw new UnsupportedLayoutException(
          store, element, "expected zarr_format 2 in .zarray, found " + json.path("zarr_format"));
    }
    JsonNode shapeNode = json.path("shape");
    JsonNode chunksNode = json.path("chunks");
    if (!shapeNode.isArray() || !chunksNode.isArray() || shapeNode.size() != chunksNode.size()) {
      throw bad(store, element, ".zarray needs 'shape' and 'chunks' lists of equal length");
    }
    long[] shape = new long[shapeNode.size()];
    int[] chunks = new int[shapeNode.size()];
    for (int d = 0; d < shape.length; d++) {
      JsonNode s = shapeNode.get(d);
      JsonNode c = chunksNode.get(d);
      if (!s.canConvertToLong() || s.asLong() < 0 || !c.canConvertToInt() || c.asInt() <= 0) {
        throw bad(store, element, ".zarray has invalid shape " + shapeNode + " / chunks " + chunksNode);
      }
      shape[d] = s.asLong();
      chunks[d] = c.asInt();
    }
    JsonNode dtypeNode = json.path("dtype");
    ZarrDtype dtype = dtypeNode.isTextual() ? ZarrDtype.parse(dtypeNode.asText())
        : ZarrDtype.parseStructured(dtypeNode);
    if (dtype == null) {
      throw new UnsupportedLayoutException(
          store, element, "dtype " + dtypeNode
              + " is not a numeric, bool, string or record dtype annflight reads");
    }
    checkChunkSize(store, element, chunks, dtype.itemSize());
    JsonNode compressorNode = json.get("compressor");
    ChunkCodec compressor = ChunkCodecs.forConfig(compressorNode);
    if (compressor == null) {
      throw new UnsupportedLayoutException(
          store, element,
          "compressor " + compressorNode + " is not supported (expected blosc, zlib, gzip, zstd, lz4 or none)");
    }
    boolean vlen = false;
    JsonNode filters = json.get("filters");
    if (filters != null && !filters.isNull()) {
      if (!filters.isArray()) {
        throw bad(store, element, "'filters' must be a list or null");
      }
      for (JsonNode f : filters) {
        String id = f.path("id").asText("");
        if (id.equals("vlen-utf8") && dtype.kind() == ZarrDtype.Kind.OBJECT && !vlen) {
          vlen = true;
        } else {
          throw new UnsupportedLayoutException(
              store, element,
              "filter " + f + " with dtype " + dtype.text()
                  + " is not supported (only vlen-utf8 on object arrays)");
        }
      }
    }
    if (dtype.kind() == ZarrDtype.Kind.OBJECT && !vlen) {
      throw new UnsupportedLayoutException(
          store, element, "object dtype |O without the vlen-utf8 filter cannot be decoded");
    }
    String order = json.path("order").asText("C");
    if (!order.equals("C") && !order.equals("F")) {
      throw bad(store, element, "order must be C or F, found " + order);
    }
    String sep = json.path("dimension_separator").asText(".");
    if (!sep.equals(".") && !sep.equals("/")) {
      throw bad(store, element, "dimension_separator must be '.' or '/', found " + sep);
    }
    return new ZarrArrayMeta(shape, chunks, dtype, List.of(compressor), order.equals("F"),
        ChunkKeys.v2(sep), json.get("fill_value"), null);
  }

  private static MalformedStoreException bad(Path store, String element, String problem) {
    return new MalformedStoreException(store, element, problem);
  }
}
