package io.annflight.store.zarr;

/**
 * Where a chunk lives in a directory store: Zarr v2 names it {@code 0.1} (or {@code 0/1});
 * the v3 {@code default} encoding {@code c/0/1} (or {@code c.0.1}); the v3 {@code v2} encoding
 * as v2 does.
 */
record ChunkKeys(boolean prefixed, String separator) {

  static ChunkKeys v2(String separator) {
    return new ChunkKeys(false, separator);
  }

  static ChunkKeys v3Default(String separator) {
    return new ChunkKeys(true, separator);
  }

  String key(long[] index) {
    if (index.length == 0) {
      return prefixed ? "c" : "0";
    }
    StringBuilder sb = new StringBuilder(prefixed ? "c" + separator : "");
    for (int d = 0; d < index.length; d++) {
      if (d > 0) {
        sb.append(separator);
      }
      sb.append(index[d]);
    }
    return sb.toString();
  }
}
