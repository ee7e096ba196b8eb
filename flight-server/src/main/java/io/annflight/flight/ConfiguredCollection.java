package io.annflight.flight;

import io.annflight.schema.CollectionRequest;
import java.nio.file.Path;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.annflight.schema.RequestJson;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A collection the server offers by name: its default request (whose {@code collection} is the
 * name), the absolute paths of its stores, in order, and the fingerprint of its configuration.
 *
 * @param fingerprint SHA-256 (hex) of the configured request as JSON: its store paths as
 *     configured (relative to the data root or the configuration file) and its options, so
 *     replicas loading the same configuration over their own copies of the files agree, and
 *     one configured differently is told apart. The files' contents are not part of it.
 */
public record ConfiguredCollection(String name, CollectionRequest request, List<Path> stores,
    String fingerprint) {
  public ConfiguredCollection {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(request, "request");
    stores = List.copyOf(stores);
    if (stores.isEmpty()) {
      throw new IllegalArgumentException("collection \"" + name + "\" has no stores");
    }
  }

  public ConfiguredCollection(String name, CollectionRequest request, List<Path> stores) {
    this(name, request, stores, fingerprintOf(request));
  }

  static String fingerprintOf(CollectionRequest request) {
    try {
      byte[] json = RequestJson.MAPPER.writeValueAsBytes(RequestJson.toJson(request));
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot fingerprint collection " + request.collection(),
          e);
    }
  }
}
