package io.annflight.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerNode;
import io.annflight.store.zarr.ZarrContainer;
import io.annflight.testing.FuzzScratch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Fuzzes Zarr v2 and v3 array metadata and the chunk codec pipeline (blosc, zstd, lz4, gzip,
 * zlib, bytes, transpose, crc32c, vlen-utf8, sharding index) through {@link ZarrContainer}.
 *
 * <p>An input is one array: byte 0 picks the format (bit 0: v3), bytes 1-2 the length of the
 * array's metadata ({@code .zarray} or {@code zarr.json}, big-endian), then the metadata, then
 * the bytes of chunk (or shard) 0. The store is written to a scratch directory and the array
 * read as the encoding layer reads arrays. Seeds (src/test/resources/.../ZarrFuzzTestInputs) are
 * arrays of the project's fixtures, one per codec; see docs/development/fuzzing.md.
 */
class ZarrFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SCRATCH = FuzzScratch.create("annflight-zarr-fuzz");

  // The metadata's vocabulary, so mutations reach the codec and dtype checks.
  @DictionaryEntries({"\"zarr_format\"", "\"node_type\"", "\"array\"", "\"shape\"",
      "\"chunks\"", "\"dtype\"", "\"data_type\"", "\"compressor\"", "\"filters\"",
      "\"fill_value\"", "\"order\"", "\"dimension_separator\"", "\"chunk_grid\"",
      "\"regular\"", "\"chunk_shape\"", "\"chunk_key_encoding\"", "\"default\"", "\"v2\"",
      "\"separator\"", "\"codecs\"", "\"name\"", "\"configuration\"", "\"id\"",
      "\"bytes\"", "\"endian\"", "\"big\"", "\"little\"", "\"transpose\"", "\"crc32c\"",
      "\"sharding_indexed\"", "\"index_codecs\"", "\"index_location\"", "\"start\"",
      "\"end\"", "\"blosc\"", "\"cname\"", "\"clevel\"", "\"shuffle\"", "\"bitshuffle\"",
      "\"typesize\"", "\"blocksize\"", "\"zstd\"", "\"lz4\"", "\"gzip\"", "\"zlib\"",
      "\"level\"", "\"vlen-utf8\"", "\"string\"", "\"<f4\"", "\">f8\"", "\"|b1\"",
      "\"<u2\"", "\"|O\"", "\"<U4\"", "\"|S8\"", "\"|V4\"", "\"index\"", "\"NaN\"",
      "\"0x7fc00000\"", "\"float32\"", "\"uint64\"", "\"bool\"", "[1, 0]"})
  @FuzzTest(maxExecutions = 12_000, maxDuration = "30m")
  void arrayMetadataAndChunks(byte[] input) {
    if (input.length < 3) {
      return;
    }
    boolean v3 = (input[0] & 1) == 1;
    int metaLength = Math.min(((input[1] & 0xFF) << 8) | (input[2] & 0xFF), input.length - 3);
    byte[] meta = Arrays.copyOfRange(input, 3, 3 + metaLength);
    byte[] chunk = Arrays.copyOfRange(input, 3 + metaLength, input.length);
    Path store = SCRATCH.resolve("s.zarr");
    FuzzScratch.delete(store);
    if (v3) {
      FuzzScratch.write(store.resolve("zarr.json"),
          "{\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {}}"
              .getBytes(StandardCharsets.UTF_8));
      FuzzScratch.write(store.resolve("X/zarr.json"), meta);
    } else {
      FuzzScratch.write(store.resolve(".zgroup"),
          "{\"zarr_format\": 2}".getBytes(StandardCharsets.UTF_8));
      FuzzScratch.write(store.resolve("X/.zarray"), meta);
    }
    String key = firstChunkKey(meta, v3);
    if (key != null) {
      FuzzScratch.write(store.resolve("X").resolve(key), chunk);
    }
    FuzzReads.answer(() -> {
      ZarrContainer container = ZarrContainer.open(store);
      Optional<ContainerNode> node = container.find("X");
      if (node.isPresent() && node.get() instanceof ContainerArray a) {
        a.attributes();
        FuzzReads.readArray(a);
      }
    });
  }

  /**
   * Where chunk 0 lives by the metadata's rank and key encoding (the harness's own reading of
   * the metadata: the reader must cope with whatever it is); null when the metadata says none.
   */
  private static String firstChunkKey(byte[] meta, boolean v3) {
    JsonNode json;
    try {
      json = JSON.readTree(meta);
    } catch (java.io.IOException e) {
      return null;
    }
    if (json == null || !json.path("shape").isArray() || json.path("shape").size() > 8) {
      return null;
    }
    int rank = json.path("shape").size();
    boolean prefixed = false;
    String sep = json.path("dimension_separator").asText(".");
    if (v3) {
      JsonNode enc = json.path("chunk_key_encoding");
      prefixed = !enc.path("name").asText("default").equals("v2");
      sep = enc.path("configuration").path("separator").asText(prefixed ? "/" : ".");
    }
    if (!sep.equals(".") && !sep.equals("/")) {
      return null;
    }
    if (rank == 0) {
      return prefixed ? "c" : "0";
    }
    StringBuilder key = new StringBuilder(prefixed ? "c" + sep : "");
    for (int d = 0; d < rank; d++) {
      key.append(d == 0 ? "" : sep).append('0');
    }
    return key.toString();
  }
}
