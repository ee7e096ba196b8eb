package io.annflight.store.zarr;

import io.annflight.store.MalformedStoreException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads one inner chunk of a sharded (v3 {@code sharding_indexed}) array: the shard's index is
 * read once (and cached with the decoded chunks), then only the inner chunk's own bytes are
 * read from the shard file, so a few rows never cost a whole shard.
 */
final class ShardReader {
  /** An index entry of all ones: the inner chunk was never written (it is the fill value). */
  private static final long MISSING = -1L;

  private ShardReader() {}

  /** The shard holding inner chunk {@code index}. */
  static long[] shardOf(ZarrArrayMeta meta, long[] index) {
    int[] perShard = meta.sharding().chunksPerShard();
    long[] shard = new long[index.length];
    for (int d = 0; d < index.length; d++) {
      shard[d] = index[d] / perShard[d];
    }
    return shard;
  }

  /** An inner chunk as messages name it: {@code shard c/0/0, inner chunk [1, 0]}. */
  static String describe(ZarrArrayMeta meta, long[] index) {
    return "shard " + meta.keys().key(shardOf(meta, index)) + ", inner chunk "
        + Arrays.toString(index);
  }

  /** The encoded bytes of inner chunk {@code index}, or null when it holds the fill value. */
  static byte[] innerChunk(ZarrArray array, long[] index, long maxBytes) {
    ZarrArrayMeta meta = array.meta();
    ZarrArrayMeta.Sharding sharding = meta.sharding();
    int[] perShard = sharding.chunksPerShard();
    long[] shard = shardOf(meta, index);
    int linear = 0;
    for (int d = 0; d < index.length; d++) {
      linear = linear * perShard[d] + (int) (index[d] % perShard[d]);
    }
    String key = meta.keys().key(shard);
    Path file = array.dir().resolve(key);
    long[] table = table(array, file, key);
    if (table == null) {
      return null;
    }
    long offset = table[2 * linear];
    long length = table[2 * linear + 1];
    if (offset == MISSING && length == MISSING) {
      return null;
    }
    String what = describe(meta, index);
    if (offset < 0 || length < 0) {
      throw new MalformedStoreException(array.store(), array.element(), what + ": the shard"
          + " index gives offset " + Long.toUnsignedString(offset) + " and length "
          + Long.toUnsignedString(length) + ", which lie past the end of the file");
    }
    return array.tree().files().readIfExists(file, array.element(), what, offset, length,
        maxBytes);
  }

  /** The shard's (offset, length) pairs, or null when the shard file does not exist. */
  private static long[] table(ZarrArray array, Path file, String key) {
    String cacheKey = array.element() + "\u0000shard index " + key;
    Object cached = array.tree().cache().get(cacheKey);
    if (cached != null) {
      return (long[]) cached;
    }
    ZarrArrayMeta.Sharding sharding = array.meta().sharding();
    String what = "shard " + key;
    long size = array.tree().files().sizeIfExists(file, array.element(), what);
    if (size < 0) {
      return null;
    }
    long indexBytes = sharding.indexBytes();
    if (size < indexBytes) {
      throw new MalformedStoreException(array.store(), array.element(), what + " holds " + size
          + " bytes, less than its index of " + indexBytes + " (truncated?)");
    }
    byte[] raw = array.tree().files().readIfExists(file, array.element(), what + " index",
        sharding.indexAtEnd() ? size - indexBytes : 0, indexBytes, indexBytes);
    if (raw == null) {
      return null;
    }
    byte[] decoded = raw;
    int entries = 2 * sharding.chunksInShard();
    try {
      var codecs = sharding.indexCodecs();
      for (int i = codecs.size() - 1; i >= 0; i--) {
        decoded = codecs.get(i).decode(decoded, i == 0 ? entries * 8 : -1, (int) indexBytes);
      }
    } catch (ChunkCodec.CodecException e) {
      throw new MalformedStoreException(array.store(), array.element(), what
          + " has a damaged index: " + e.getMessage(), e);
    }
    if (decoded.length != entries * 8) {
      throw new MalformedStoreException(array.store(), array.element(), what + " index decodes"
          + " to " + decoded.length + " bytes, expected " + entries * 8);
    }
    long[] table = new long[entries];
    ByteBuffer.wrap(decoded).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(table);
    long dataEnd = sharding.indexAtEnd() ? size - indexBytes : size;
    long dataStart = sharding.indexAtEnd() ? 0 : indexBytes;
    for (int i = 0; i < entries; i += 2) {
      long off = table[i];
      long len = table[i + 1];
      if (off == MISSING && len == MISSING) {
        continue;
      }
      if (off < dataStart || len < 0 || off > dataEnd - len) {
        throw new MalformedStoreException(array.store(), array.element(), what + ": index entry "
            + i / 2 + " points at bytes [" + Long.toUnsignedString(off) + ", +"
            + Long.toUnsignedString(len) + ") outside the shard's data [" + dataStart + ", "
            + dataEnd + ")");
      }
    }
    array.tree().cache().put(cacheKey, table);
    return table;
  }
}
