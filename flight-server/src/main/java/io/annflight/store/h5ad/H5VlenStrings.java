package io.annflight.store.h5ad;

import io.annflight.store.MalformedStoreException;
import io.jhdf.GlobalHeap;
import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.exceptions.HdfException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A chunked 1-D dataset of variable-length strings, read chunk by chunk: each element is a
 * length and a reference into a global heap collection (4 + offset size + 4 bytes). jhdf
 * cannot undo LZF or shuffle on these chunks (see {@link H5ChunkFilters}); this reads them
 * under every filter h5py writes.
 */
final class H5VlenStrings {
  /**
   * Chunks a string dataset may leave unwritten: anndata writes every chunk of a string array,
   * so a dataset whose metadata claims millions of chunks and whose file holds none is
   * damaged, and is refused by name instead of being read as nothing.
   */
  static final int MAX_MISSING_CHUNKS = 4096;

  private H5VlenStrings() {}

  /** One more unwritten chunk, refused past {@link #MAX_MISSING_CHUNKS}: the count so far. */
  private static int countMissing(H5File file, String path, int missing, long length,
      int chunk) {
    if (missing + 1 > MAX_MISSING_CHUNKS) {
      throw new MalformedStoreException(file.path(), path, "more than "
          + MAX_MISSING_CHUNKS + " of its " + ((length + chunk - 1) / chunk)
          + " chunks of " + chunk + " strings were never written (damaged metadata?)");
    }
    return missing + 1;
  }

  static String[] read(H5File file, String path, ChunkedDataset ds, long length) {
    int offsets = file.hdf().getHdfBackingStorage().getSizeOfOffsets();
    int elementSize = 4 + offsets + 4;
    int chunk = ds.getChunkDimensions()[0];
    int chunkBytes = Math.multiplyExact(chunk, elementSize);
    var filters = ds.getFilters();
    boolean own = H5ChunkFilters.handles(filters);
    String[] out = new String[Math.toIntExact(length)];
    Map<Long, GlobalHeap> heaps = new HashMap<>();
    int missing = 0;
    // Unwritten chunks known from jhdf's chunk index cost no exception each (the catch below
    // remains for an index jhdf does not publish).
    H5AllocatedChunks allocated = H5AllocatedChunks.of(ds);
    for (long start = 0; start < length; start += chunk) {
      int[] offset = {(int) start};
      if (!allocated.has(offset)) {
        missing = countMissing(file, path, missing, length, chunk);
        continue; // never written: the fill value, which for strings is no string
      }
      byte[] bytes;
      try {
        if (own) {
          ByteBuffer raw = ds.getRawChunkBuffer(offset);
          byte[] stored = new byte[raw.remaining()];
          raw.get(stored);
          bytes = H5ChunkFilters.decode(stored, filters, chunkBytes);
        } else {
          bytes = ds.getDecompressedChunk(offset);
        }
      } catch (HdfException e) {
        if (String.valueOf(e.getMessage()).startsWith("No chunk with offset")) {
          missing = countMissing(file, path, missing, length, chunk);
          continue; // never written: the fill value, which for strings is no string
        }
        throw new MalformedStoreException(file.path(), path, "chunk at " + start
            + " could not be read: " + e.getMessage(), e);
      } catch (java.util.zip.DataFormatException e) {
        throw new MalformedStoreException(file.path(), path, "chunk at " + start
            + " is damaged: " + e.getMessage(), e);
      }
      if (bytes.length < chunkBytes) {
        throw new MalformedStoreException(file.path(), path, "chunk at " + start + " holds "
            + bytes.length + " bytes, expected " + chunkBytes);
      }
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      int n = (int) Math.min(chunk, length - start);
      for (int i = 0; i < n; i++) {
        int at = i * elementSize;
        int len = b.getInt(at);
        long heap = offsets == 8 ? b.getLong(at + 4) : b.getInt(at + 4) & 0xFFFFFFFFL;
        int index = b.getInt(at + 4 + offsets);
        if (heap == 0 && len == 0) {
          out[(int) start + i] = "";
          continue;
        }
        GlobalHeap gh = heaps.computeIfAbsent(heap,
            a -> new GlobalHeap(file.hdf().getHdfBackingStorage(), a));
        ByteBuffer data = gh.getObjectData(index);
        byte[] s = new byte[Math.min(len, data.remaining())];
        data.get(s);
        out[(int) start + i] = new String(s, StandardCharsets.UTF_8);
      }
    }
    return out;
  }
}
