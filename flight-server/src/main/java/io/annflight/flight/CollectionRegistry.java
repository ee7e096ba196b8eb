package io.annflight.flight;

import io.annflight.schema.CollectionRequest;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The server's configured collections, by name, in configuration order. Immutable. */
public final class CollectionRegistry {
  private final Map<String, ConfiguredCollection> byName;

  public CollectionRegistry(List<ConfiguredCollection> collections) {
    Map<String, ConfiguredCollection> m = new LinkedHashMap<>();
    for (ConfiguredCollection c : collections) {
      if (m.put(c.name(), c) != null) {
        throw new IllegalArgumentException("collection \"" + c.name() + "\" is configured twice");
      }
    }
    this.byName = java.util.Collections.unmodifiableMap(m);
  }

  public Collection<ConfiguredCollection> all() {
    return byName.values();
  }

  /** @throws UnknownCollectionException naming the configured collections */
  public ConfiguredCollection get(String name) {
    ConfiguredCollection c = byName.get(name);
    if (c == null) {
      throw new UnknownCollectionException(name, byName.keySet());
    }
    return c;
  }

  /** The configured request of a collection; the lookup RequestJson.parse needs. */
  public CollectionRequest request(String name) {
    return get(name).request();
  }
}
