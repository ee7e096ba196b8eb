package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.store.ObjectChunkReadAhead.ChunkKey;
import org.junit.jupiter.api.Test;

/** Chunk keys of Zarr v2 and v3 stores taken apart into their array and row of chunks. */
class ObjectChunkKeyTest {

  @Test
  void chunkKeysOfEveryEncodingGiveTheirArrayAndFirstIndex() {
    assertThat(ChunkKey.parse("X/data/12")).isEqualTo(new ChunkKey("X/data", 12));
    assertThat(ChunkKey.parse("X/3.0")).isEqualTo(new ChunkKey("X", 3));
    assertThat(ChunkKey.parse("layers/counts/7/1")).isEqualTo(new ChunkKey("layers/counts", 7));
    assertThat(ChunkKey.parse("X/c/4/0")).isEqualTo(new ChunkKey("X/c", 4));
    assertThat(ChunkKey.parse("obs/cell_type/codes/c.5")).isEqualTo(
        new ChunkKey("obs/cell_type/codes", 5));
    assertThat(ChunkKey.parse("X/c.2.9")).isEqualTo(new ChunkKey("X", 2));
  }

  @Test
  void metadataAndOtherKeysAreNoChunks() {
    assertThat(ChunkKey.parse("X/.zarray")).isNull();
    assertThat(ChunkKey.parse("X/zarr.json")).isNull();
    assertThat(ChunkKey.parse(".zgroup")).isNull();
    assertThat(ChunkKey.parse("0")).isNull();
    assertThat(ChunkKey.parse("X/c")).isNull();
    assertThat(ChunkKey.parse("X/1..2")).isNull();
    assertThat(ChunkKey.parse("X/99999999999999999999")).isNull();
  }
}
