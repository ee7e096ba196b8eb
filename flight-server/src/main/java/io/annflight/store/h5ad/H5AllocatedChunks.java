package io.annflight.store.h5ad;

import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.dataset.chunked.ChunkOffset;
import io.jhdf.dataset.chunked.ChunkedDatasetBase;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * Which chunks of a chunked dataset the file allocated. jhdf reports an unallocated chunk only
 * by throwing ("No chunk with offset"), which costs microseconds each: a dataset whose metadata
 * claims millions of chunks the file never wrote (damage, or a sparse array) took tens of
 * seconds to read as fill values. jhdf 0.13 builds the chunk index it looks chunks up in once per
 * dataset but does not publish it ({@code getChunkLookup} is protected), so it is read here by
 * reflection; if that fails (another jhdf, or an index too damaged to read), every chunk counts
 * as allocated and each read asks jhdf, which names what is wrong.
 */
final class H5AllocatedChunks {
  private static final Method LOOKUP = lookupMethod();

  /** What is known when jhdf does not tell: every chunk may be there. */
  private static final H5AllocatedChunks UNKNOWN = new H5AllocatedChunks(null);

  /** jhdf's own index (the key it looks a chunk up by, to the chunk), or null: unknown. */
  private final Map<?, ?> lookup;

  private H5AllocatedChunks(Map<?, ?> lookup) {
    this.lookup = lookup;
  }

  private static Method lookupMethod() {
    try {
      Method m = ChunkedDatasetBase.class.getDeclaredMethod("getChunkLookup");
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** The allocated chunks of a dataset, as far as jhdf tells (see above). */
  static H5AllocatedChunks of(ChunkedDataset ds) {
    if (LOOKUP == null || !(ds instanceof ChunkedDatasetBase)) {
      return UNKNOWN;
    }
    try {
      return new H5AllocatedChunks((Map<?, ?>) LOOKUP.invoke(ds));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return UNKNOWN; // a damaged index: the per-chunk reads name it
    }
  }

  /**
   * Whether the chunk starting at element {@code offset} may be allocated: the key is the one
   * jhdf's {@code getRawChunkBuffer(offset)} looks up, so a false here is exactly its "No chunk".
   */
  boolean has(int[] offset) {
    if (lookup == null) {
      return true;
    }
    long[] key = new long[offset.length];
    for (int i = 0; i < offset.length; i++) {
      key[i] = offset[i];
    }
    return lookup.containsKey(new ChunkOffset(key));
  }

  /**
   * Where the chunk starting at element {@code offset} is stored: its HDF5 address and size in
   * bytes; null when unallocated or unknown (what read-ahead hints then skip).
   */
  long[] place(int[] offset) {
    if (lookup == null) {
      return null;
    }
    long[] key = new long[offset.length];
    for (int i = 0; i < offset.length; i++) {
      key[i] = offset[i];
    }
    return lookup.get(new ChunkOffset(key)) instanceof io.jhdf.dataset.chunked.Chunk c
        ? new long[] {c.getAddress(), c.getSize()} : null;
  }
}
