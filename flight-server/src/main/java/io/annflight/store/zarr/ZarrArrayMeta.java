package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.file.Path;

/** The parsed {@code .zarray} of one Zarr v2 array. */
record ZarrArrayMeta(
    long[] shape,
    int[] chunks,
    ZarrDtype dtype,
    ChunkCodec compressor,
    boolean vlenUtf8,
    boolean fortranOrder,
    String separator,
    JsonNode fillValue) {

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

  static ZarrArrayMeta parse(Path store, String element, JsonNode json) {
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
    long chunkElements = 1;
    for (int d = 0; d < shape.length; d++) {
      JsonNode s = shapeNode.get(d);
      JsonNode c = chunksNode.get(d);
      if (!s.canConvertToLong() || s.asLong() < 0 || !c.canConvertToInt() || c.asInt() <= 0) {
        throw bad(store, element, ".zarray has invalid shape " + shapeNode + " / chunks " + chunksNode);
      }
      shape[d] = s.asLong();
      chunks[d] = c.asInt();
      chunkElements *= chunks[d];
    }
    JsonNode dtypeNode = json.path("dtype");
    ZarrDtype dtype = dtypeNode.isTextual() ? ZarrDtype.parse(dtypeNode.asText()) : null;
    if (dtype == null) {
      throw new UnsupportedLayoutException(
          store, element, "dtype " + dtypeNode + " is not a numeric, bool or string dtype annflight reads");
    }
    int width = dtype.itemSize() > 0 ? dtype.itemSize() : 1;
    if (chunkElements * width > Integer.MAX_VALUE - 64) {
      throw new UnsupportedLayoutException(
          store, element, "chunks " + chunksNode + " exceed 2 GiB per chunk");
    }
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
    return new ZarrArrayMeta(
        shape, chunks, dtype, compressor, vlen, order.equals("F"), sep, json.get("fill_value"));
  }

  private static MalformedStoreException bad(Path store, String element, String problem) {
    return new MalformedStoreException(store, element, problem);
  }
}
