package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a Zarr v3 array's {@code zarr.json} into {@link ZarrArrayMeta}: a {@code regular}
 * chunk grid; chunk key encodings {@code default} and {@code v2}; data types bool, int/uint
 * 8-64, float32/64 and {@code string}; the codec chain (array-to-array {@code transpose},
 * then one array-to-bytes codec: {@code bytes} in either endian, {@code vlen-utf8} for
 * strings or {@code sharding_indexed}, then bytes-to-bytes {@code zstd}, {@code gzip},
 * {@code blosc}, {@code crc32c}). Anything else is refused by name.
 */
final class ZarrV3Metadata {
  private ZarrV3Metadata() {}

  static ZarrArrayMeta parse(Path store, String element, JsonNode json) {
    long[] shape = shape(store, element, json.path("shape"));
    JsonNode grid = json.path("chunk_grid");
    if (!grid.path("name").asText("").equals("regular")) {
      throw new UnsupportedLayoutException(store, element, "chunk_grid " + grid
          + " is not supported (expected regular)");
    }
    int[] outer = chunkShape(store, element, grid.path("configuration").path("chunk_shape"),
        shape.length, "chunk_grid");
    ZarrDtype dtype = dtype(store, element, json.path("data_type"));
    JsonNode transformers = json.path("storage_transformers");
    if (transformers.isArray() && transformers.size() > 0) {
      throw new UnsupportedLayoutException(store, element, "storage_transformers "
          + transformers + " are not supported");
    }
    ChunkKeys keys = keys(store, element, json.path("chunk_key_encoding"));
    Chain chain = chain(store, element, json.path("codecs"), dtype, shape.length);
    ZarrArrayMeta.Sharding sharding = null;
    int[] chunks = outer;
    if (chain.sharding != null) {
      JsonNode cfg = chain.sharding.path("configuration");
      int[] inner = chunkShape(store, element, cfg.path("chunk_shape"), shape.length,
          "sharding_indexed chunk_shape");
      int[] perShard = new int[inner.length];
      for (int d = 0; d < inner.length; d++) {
        if (outer[d] % inner[d] != 0) {
          throw new MalformedStoreException(store, element, "shard shape "
              + java.util.Arrays.toString(outer) + " is not a multiple of the inner chunk shape "
              + java.util.Arrays.toString(inner));
        }
        perShard[d] = outer[d] / inner[d];
      }
      Chain innerChain = chain(store, element, cfg.path("codecs"), dtype, shape.length);
      if (innerChain.sharding != null) {
        throw new UnsupportedLayoutException(store, element, "nested sharding is not supported");
      }
      Chain index = chain(store, element, cfg.path("index_codecs"), ZarrDtype.parse("<u8"), 1);
      if (index.bigEndian || index.fortran) {
        throw new UnsupportedLayoutException(store, element, "a big-endian or transposed shard"
            + " index is not supported");
      }
      String location = cfg.path("index_location").asText("end");
      if (!location.equals("end") && !location.equals("start")) {
        throw new MalformedStoreException(store, element, "index_location '" + location
            + "', expected start or end");
      }
      sharding = new ZarrArrayMeta.Sharding(perShard, index.bytesCodecs, location.equals("end"));
      chain = innerChain;
      chunks = inner;
    }
    ZarrDtype stored = chain.bigEndian ? dtype.withBigEndian() : dtype;
    ZarrArrayMeta.checkChunkSize(store, element, chunks, stored.itemSize());
    return new ZarrArrayMeta(shape, chunks, stored, chain.bytesCodecs, chain.fortran, keys,
        json.get("fill_value"), sharding);
  }

  private static long[] shape(Path store, String element, JsonNode node) {
    if (!node.isArray()) {
      throw new MalformedStoreException(store, element, "zarr.json needs a 'shape' list");
    }
    long[] shape = new long[node.size()];
    for (int d = 0; d < shape.length; d++) {
      JsonNode s = node.get(d);
      if (!s.isIntegralNumber() || !s.canConvertToLong() || s.asLong() < 0) {
        throw new MalformedStoreException(store, element, "invalid shape " + node);
      }
      shape[d] = s.asLong();
    }
    return shape;
  }

  private static int[] chunkShape(Path store, String element, JsonNode node, int rank,
      String what) {
    if (!node.isArray() || node.size() != rank) {
      throw new MalformedStoreException(store, element, what + " " + node + " must list "
          + rank + " chunk lengths");
    }
    int[] out = new int[rank];
    for (int d = 0; d < rank; d++) {
      JsonNode c = node.get(d);
      if (!c.isIntegralNumber() || !c.canConvertToInt() || c.asInt() <= 0) {
        throw new MalformedStoreException(store, element, "invalid " + what + " " + node);
      }
      out[d] = c.asInt();
    }
    return out;
  }

  private static ZarrDtype dtype(Path store, String element, JsonNode node) {
    String name = node.asText("");
    String v2 = switch (name) {
      case "bool" -> "|b1";
      case "int8" -> "|i1";
      case "uint8" -> "|u1";
      case "int16" -> "<i2";
      case "uint16" -> "<u2";
      case "int32" -> "<i4";
      case "uint32" -> "<u4";
      case "int64" -> "<i8";
      case "uint64" -> "<u8";
      case "float32" -> "<f4";
      case "float64" -> "<f8";
      case "string" -> "|O";
      default -> null;
    };
    if (v2 == null) {
      throw new UnsupportedLayoutException(store, element, "data_type " + node
          + " is not one annflight reads (bool, int/uint 8-64, float32/64, string)");
    }
    return ZarrDtype.parse(v2);
  }

  private static ChunkKeys keys(Path store, String element, JsonNode node) {
    String name = node.path("name").asText("default");
    String sep = node.path("configuration").path("separator").asText(
        name.equals("v2") ? "." : "/");
    if (!sep.equals(".") && !sep.equals("/")) {
      throw new MalformedStoreException(store, element, "chunk key separator '" + sep
          + "', expected '.' or '/'");
    }
    return switch (name) {
      case "default" -> ChunkKeys.v3Default(sep);
      case "v2" -> ChunkKeys.v2(sep);
      default -> throw new UnsupportedLayoutException(store, element, "chunk_key_encoding '"
          + name + "' is not supported (expected default or v2)");
    };
  }

  /** A codec chain, as far as it matters to reading. */
  private static final class Chain {
    boolean fortran;
    boolean bigEndian;
    JsonNode sharding;
    final List<ChunkCodec> bytesCodecs = new ArrayList<>();
  }

  private static Chain chain(Path store, String element, JsonNode codecs, ZarrDtype dtype,
      int rank) {
    if (!codecs.isArray() || codecs.isEmpty()) {
      throw new MalformedStoreException(store, element, "zarr.json needs a 'codecs' list");
    }
    Chain chain = new Chain();
    boolean arrayToBytes = false;
    for (JsonNode c : codecs) {
      String name = c.path("name").asText("");
      JsonNode cfg = c.path("configuration");
      if (!arrayToBytes) {
        switch (name) {
          case "transpose" -> chain.fortran ^= transposes(store, element, cfg, rank);
          case "bytes" -> {
            String endian = cfg.path("endian").asText("little");
            if (!endian.equals("little") && !endian.equals("big")) {
              throw new MalformedStoreException(store, element, "bytes codec endian '" + endian
                  + "', expected little or big");
            }
            if (!dtype.isNumeric()) {
              throw new MalformedStoreException(store, element, "the bytes codec cannot encode "
                  + "strings (expected vlen-utf8)");
            }
            chain.bigEndian = endian.equals("big") && dtype.itemSize() > 1;
            arrayToBytes = true;
          }
          case "vlen-utf8" -> {
            if (dtype.isNumeric()) {
              throw new MalformedStoreException(store, element, "vlen-utf8 on a numeric array");
            }
            arrayToBytes = true;
          }
          case "sharding_indexed" -> {
            chain.sharding = c;
            arrayToBytes = true;
          }
          default -> throw unsupported(store, element, c);
        }
        continue;
      }
      if (chain.sharding != null) {
        throw new UnsupportedLayoutException(store, element, "codecs after sharding_indexed ("
            + name + ") are not supported");
      }
      ChunkCodec codec = ChunkCodecs.forV3(c);
      if (codec == null) {
        throw unsupported(store, element, c);
      }
      chain.bytesCodecs.add(codec);
    }
    if (!arrayToBytes) {
      throw new MalformedStoreException(store, element, "codecs " + codecs
          + " have no array-to-bytes codec (bytes, vlen-utf8 or sharding_indexed)");
    }
    return chain;
  }

  /** Whether a transpose reverses the axes (F order); identity is false; others unsupported. */
  private static boolean transposes(Path store, String element, JsonNode cfg, int rank) {
    JsonNode order = cfg.path("order");
    if (!order.isArray() || order.size() != rank) {
      throw new MalformedStoreException(store, element, "transpose order " + order
          + " does not match rank " + rank);
    }
    boolean identity = true;
    boolean reversed = true;
    for (int d = 0; d < rank; d++) {
      identity &= order.get(d).asInt(-1) == d;
      reversed &= order.get(d).asInt(-1) == rank - 1 - d;
    }
    if (identity) {
      return false;
    }
    if (reversed && rank == 2) {
      return true;
    }
    throw new UnsupportedLayoutException(store, element, "transpose order " + order
        + " is not supported (identity, or [1, 0] for 2-D arrays)");
  }

  private static UnsupportedLayoutException unsupported(Path store, String element, JsonNode c) {
    return new UnsupportedLayoutException(store, element, "codec " + c + " is not supported"
        + " (transpose, bytes, vlen-utf8, sharding_indexed, zstd, gzip, blosc, crc32c)");
  }

}
