package io.annflight.flight;

import io.annflight.schema.CollectionRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A collection the server offers by name: its default request (whose {@code collection} is the
 * name) and the absolute paths of its stores, in order.
 */
public record ConfiguredCollection(String name, CollectionRequest request, List<Path> stores) {
  public ConfiguredCollection {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(request, "request");
    stores = List.copyOf(stores);
    if (stores.isEmpty()) {
      throw new IllegalArgumentException("collection \"" + name + "\" has no stores");
    }
  }
}
