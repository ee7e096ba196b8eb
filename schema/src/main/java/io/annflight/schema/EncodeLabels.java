package io.annflight.schema;

import java.util.List;

/**
 * MappedCollection's {@code encode_labels}: {@code true} (every obs key), {@code false}, or a
 * list of obs keys. An empty list means {@code false}, as in lamindb.
 */
public record EncodeLabels(boolean all, List<String> keys) {
  public static final EncodeLabels ALL = new EncodeLabels(true, List.of());
  public static final EncodeLabels NONE = new EncodeLabels(false, List.of());

  public EncodeLabels {
    keys = List.copyOf(keys);
    if (all && !keys.isEmpty()) {
      throw new IllegalArgumentException("encode_labels is either true or a list");
    }
  }

  public static EncodeLabels of(List<String> keys) {
    return keys.isEmpty() ? NONE : new EncodeLabels(false, keys);
  }

  /** The obs keys to encode, given the request's obs keys. */
  public List<String> resolve(List<String> obsKeys) {
    if (all) {
      return obsKeys;
    }
    for (String k : keys) {
      if (!obsKeys.contains(k)) {
        throw new RequestException(
            "encode_labels names \"" + k + "\" which is not in obs_keys " + obsKeys);
      }
    }
    return keys;
  }
}
