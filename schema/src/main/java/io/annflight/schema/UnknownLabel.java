package io.annflight.schema;

import java.util.Map;
import java.util.TreeMap;

/**
 * MappedCollection's {@code unknown_label}: none, one label for every encoded key, or a label
 * per key. The unknown label is taken out of the merged categories and encodes to null (-1).
 */
public record UnknownLabel(String forAll, Map<String, String> byKey) {
  public static final UnknownLabel NONE = new UnknownLabel(null, Map.of());

  public UnknownLabel {
    byKey = Map.copyOf(byKey);
    if (forAll != null && !byKey.isEmpty()) {
      throw new IllegalArgumentException("unknown_label is either a string or a map");
    }
  }

  public static UnknownLabel of(String label) {
    return new UnknownLabel(label, Map.of());
  }

  public static UnknownLabel of(Map<String, String> byKey) {
    return new UnknownLabel(null, new TreeMap<>(byKey));
  }

  /** The unknown label for one key, or null. */
  public String forKey(String key) {
    return forAll != null ? forAll : byKey.get(key);
  }
}
