package io.annflight.store.zarr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.testing.Fixtures;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged and hostile Zarr v3 stores: each read answers with an error naming the store, the
 * element and what is wrong, without allocating what the damaged metadata claims, and the store
 * keeps serving its sound elements. (No timeouts: bounds hold by construction.)
 */
class ZarrV3DamageTest {

  @TempDir Path tmp;

  private Path copy(String name) throws IOException {
    Path target = tmp.resolve(name);
    Fixtures.copyTree(Fixtures.formats().resolve(name), target);
    return target;
  }

  @Test
  void crc32cMismatchIsAnErrorNamingTheChunk() throws IOException {
    Path store = copy("v3.zarr");
    Path chunk = store.resolve("layers/csc64/data/c/0");
    byte[] bytes = Files.readAllBytes(chunk);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(chunk, bytes);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/csc64").orElseThrow().readRows(0, s.nObs()))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("layers/csc64/data")
          .hasMessageContaining("crc32c mismatch");
      assertThat(s.matrix("X").orElseThrow().readRows(0, s.nObs()).nRows()).isEqualTo(20);
    }
  }

  @Test
  void shardIndexPointingPastTheFileIsRefused() throws IOException {
    Path store = copy("v3_sharded.zarr");
    Path shard = store.resolve("X/c/0/0");
    byte[] bytes = Files.readAllBytes(shard);
    // The index (4 inner chunks x 16 bytes + crc32c) ends the file: point entry 0 far away.
    int index = bytes.length - (4 * 16 + 4);
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(index, 1L << 40);
    fixCrc(bytes, index, 4 * 16);
    Files.write(shard, bytes);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X").orElseThrow().readRows(new long[] {0}))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("'X'")
          .hasMessageContaining("outside the shard's data");
    }
  }

  @Test
  void aReadDecodesOnlyTheInnerChunksItsRowsTouch() throws IOException {
    Path store = copy("v3_sharded.zarr");
    Path shard = store.resolve("X/c/0/0");
    byte[] bytes = Files.readAllBytes(shard);
    // Index: 2 x 2 inner chunks of 4 rows x 5 columns, row-major; entry 2 is rows 4-7, cols 0-4.
    ByteBuffer index = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int at = bytes.length - (4 * 16 + 4);
    long offset = index.getLong(at + 2 * 16);
    long length = index.getLong(at + 2 * 16 + 8);
    for (long i = offset; i < offset + length; i++) {
      bytes[(int) i] = (byte) 0x5A; // no longer zstd
    }
    Files.write(shard, bytes);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      var x = s.matrix("X").orElseThrow();
      // Rows 0-3 and 8 live in other inner chunks (of this shard and the next): unaffected.
      assertThat(x.readRows(new long[] {0, 3, 8}).nRows()).isEqualTo(3);
      assertThatThrownBy(() -> x.readRows(new long[] {5}))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("inner chunk [1, 0]");
    }
  }

  @Test
  void damagedShardIndexFailsItsChecksum() throws IOException {
    Path store = copy("v3_sharded.zarr");
    Path shard = store.resolve("X/c/1/0");
    byte[] bytes = Files.readAllBytes(shard);
    bytes[bytes.length - 20] ^= 1;
    Files.write(shard, bytes);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("X").orElseThrow().readRows(new long[] {9}))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("shard c/1/0")
          .hasMessageContaining("crc32c mismatch");
      // Rows of the other shards still read.
      assertThat(s.matrix("X").orElseThrow().readRows(new long[] {0, 23}).nRows()).isEqualTo(2);
    }
  }

  @Test
  void truncatedShardIsAnError() throws IOException {
    Path store = copy("v3_sharded.zarr");
    Path shard = store.resolve("layers/index_at_start/c/0/0");
    byte[] bytes = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/index_at_start").orElseThrow().readRows(0, 12))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("layers/index_at_start");
    }
  }

  @Test
  void numericChunkDecodingPastItsSizeIsRefused() throws IOException {
    Path store = copy("v3.zarr");
    // 64 MiB of zeros in zstd: small on disk, far more than the chunk's 4 x 3 floats.
    byte[] bomb = Zstd.compress(new byte[64 << 20], 19);
    Files.write(store.resolve("obsm/X_pca/c/0/0"), bomb);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("obsm/X_pca").orElseThrow().readRows(0, 2))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("obsm/X_pca")
          .hasMessageContaining("compression bomb");
    }
  }

  @Test
  void stringChunkBombIsRefusedWithoutDecodingIt() throws IOException {
    Path store = copy("v3.zarr");
    // The obs index (vlen-utf8 + zstd) replaced by a zstd stream of 80 MiB without a declared
    // size: more than a string chunk of 10 elements may decode to (64 MiB).
    Path chunk = store.resolve("obs/_index/c/0");
    writeZeros(new com.github.luben.zstd.ZstdOutputStream(Files.newOutputStream(chunk)), 80);
    // Opening reads no obs index (its length comes from the array's shape); reading it refuses.
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().index())
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("obs/_index")
          .hasMessageContaining("compression bomb");
    }
  }

  @Test
  void gzipBombInACategoricalsCategoriesIsRefused() throws IOException {
    Path store = copy("v3.zarr");
    Path meta = store.resolve("obs/label/categories/zarr.json");
    Files.writeString(meta, Files.readString(meta).replace("\"zstd\"", "\"gzip\"")
        .replace("\"checksum\": false", "\"level\": 1"));
    writeZeros(new GZIPOutputStream(Files.newOutputStream(
        store.resolve("obs/label/categories/c/0"))), 80);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.obs().column("label"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("obs/label/categories")
          .hasMessageContaining("compression bomb");
      assertThat(s.obs().column("score").length()).isEqualTo(20);
    }
  }

  @Test
  void hugeDeclaredChunkIsRefusedWhenOpened() throws IOException {
    Path store = copy("v3.zarr");
    Path meta = store.resolve("layers/big_endian/zarr.json");
    Files.writeString(meta, Files.readString(meta)
        .replaceFirst("\"shape\": \\[\\s*20,\\s*12\\s*\\]", "\"shape\": [4000000000, 100000]")
        .replaceFirst("\"chunk_shape\": \\[\\s*7,\\s*5\\s*\\]", "\"chunk_shape\": [2000000000, 100000]"));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/big_endian"))
          .isInstanceOf(UnsupportedLayoutException.class)
          .hasMessageContaining("layers/big_endian")
          .hasMessageContaining("MiB per chunk");
    }
  }

  @Test
  void oversizedChunkFileIsNotReadIntoMemory() throws IOException {
    Path store = copy("v3.zarr");
    // A 4 MiB file where a chunk of 7 x 5 doubles (280 bytes) belongs.
    Path chunk = store.resolve("layers/big_endian/0.0");
    Files.write(chunk, new byte[4 << 20]);
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("layers/big_endian").orElseThrow().readRows(0, 1))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("chunk 0.0")
          .hasMessageContaining("more than it can");
    }
  }

  @Test
  void unknownCodecIsRefusedByName() throws IOException {
    Path store = copy("v3.zarr");
    Path meta = store.resolve("obsm/X_pca/zarr.json");
    Files.writeString(meta, Files.readString(meta).replace("\"zstd\"", "\"numcodecs.bz2\""));
    try (AnnDataStore s = AnnDataStores.open(store)) {
      assertThatThrownBy(() -> s.matrix("obsm/X_pca"))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("obsm/X_pca")
          .hasMessageContaining("numcodecs.bz2");
    }
  }

  /** Streams {@code mib} MiB of zeros through a compressor (a bomb, small on disk), closing it. */
  private static void writeZeros(OutputStream compressor, int mib) throws IOException {
    try (OutputStream out = compressor) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < mib; i++) {
        out.write(zeros);
      }
    }
  }

  /** Rewrites the crc32c after {@code length} bytes at {@code from}. */
  private static void fixCrc(byte[] bytes, int from, int length) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes, from, length);
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(from + length, (int) crc.getValue());
  }
}
