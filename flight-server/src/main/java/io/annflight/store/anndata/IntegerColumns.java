package io.annflight.store.anndata;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import java.nio.file.Path;

/** Decoding of stored integer runs (sparse indices and pointers) into Java arrays. */
final class IntegerColumns {
  private IntegerColumns() {}

  static long[] toLongs(TypedBuffer b) {
    long[] out = new long[b.length()];
    switch (b.type()) {
      case INT64, UINT64 -> b.bytes().duplicate().order(b.bytes().order()).clear()
          .asLongBuffer().get(out);
      default -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.getLong(i);
        }
      }
    }
    return out;
  }

  /** Column (or row) indices, each checked to lie in {@code [0, bound)}. */
  static int[] toIndices(TypedBuffer b, long bound, Path file, String element) {
    int[] out = new int[b.length()];
    if (b.type() == io.annflight.schema.ElementType.INT32) {
      b.bytes().duplicate().order(b.bytes().order()).clear().asIntBuffer().get(out);
      // Sign bit set by any index outside [0, bound): a reduction without a branch, which the
      // JIT vectorizes; the offender is looked for only when there is one.
      int limit = (int) Math.min(Integer.MAX_VALUE, bound - 1);
      int outside = bound <= 0 && out.length > 0 ? -1 : 0;
      for (int v : out) {
        outside |= v | (limit - v);
      }
      if (outside < 0) {
        for (int v : out) {
          if (v < 0 || v >= bound) {
            throw outOfBounds(file, element, v, bound);
          }
        }
      }
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      long v = b.getLong(i);
      if (v < 0 || v >= bound) {
        throw outOfBounds(file, element, v, bound);
      }
      out[i] = (int) v;
    }
    return out;
  }

  static MalformedStoreException outOfBounds(Path file, String element, long v, long bound) {
    return new MalformedStoreException(
        file, element, "holds index " + v + ", expected indices in [0, " + bound + ")");
  }
}
