package io.annflight.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.annflight.flight.ConfiguredCollection;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.store.source.ObjectPath;
import io.annflight.store.source.ObjectStore;
import io.annflight.store.source.ObjectStoreException;
import io.annflight.store.source.ObjectStores;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The server's configuration file (YAML or JSON):
 *
 * <pre>
 * data_root: /data/atlas          # optional; relative to the file's directory, or s3://b/prefix
 * object_roots: [s3://b/extra]    # optional; bucket prefixes s3:// store paths may lie under
 * collections:
 *   pbmc:                         # the name clients use
 *     paths: [a.h5ad, b.zarr]     # relative to data_root (else the file's directory) or absolute
 *     obs_keys: [cell_type]       # any request key: the collection's default options
 *     join: inner
 * </pre>
 *
 * A file with a top-level {@code name} instead of {@code collections} describes one collection
 * (the form of the demo's {@code collection.json}).
 *
 * <p>A configured {@code s3://} store must lie under an {@code s3://} data root or one of the
 * {@code object_roots}: the server's credentials may reach far more of a bucket than it should
 * serve, so the file says which prefixes it serves, as a data root does for request paths.
 * Local store paths are not restricted (the file's author names files the server can read).
 *
 * @param dataRoot null when the file sets none
 */
public record ServerConfig(Path dataRoot, List<ConfiguredCollection> collections,
    List<String> locations) {
  private static final Set<String> TOP_KEYS =
      Set.of("data_root", "object_roots", "collections", "locations");

  /** @param locations the replicas' URIs ({@code locations:}), empty when not given */
  public ServerConfig {
    collections = List.copyOf(collections);
    locations = List.copyOf(locations);
  }

  /**
   * Reads a configuration file.
   *
   * @param dataRootOverride the command line's --data-root, which wins over the file's
   */
  public static ServerConfig load(Path file, Path dataRootOverride) {
    JsonNode root = read(file);
    if (!root.isObject()) {
      throw new ConfigException(file + ": the configuration must be a mapping");
    }
    Path dir = file.toAbsolutePath().getParent();
    if (root.has("name")) {
      Path base = dataRootOverride != null ? dataRootOverride : dir;
      ObjectNode options = ((ObjectNode) root).deepCopy();
      String name = options.remove("name").asText();
      return new ServerConfig(dataRootOverride, List.of(collection(file, name, options, base,
          objectRoots(file, dataRootOverride, null))), List.of());
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_KEYS.contains(key)) {
        throw new ConfigException(file + ": unknown key \"" + key + "\"; expected "
            + "\"data_root\", \"object_roots\", \"collections\" and \"locations\" (or \"name\""
            + " and request keys for one collection)");
      }
    }
    Path dataRoot = dataRootOverride;
    if (dataRoot == null && root.hasNonNull("data_root")) {
      String text = root.get("data_root").asText();
      dataRoot = ObjectStore.isObjectUri(text) ? objectPath(file + ": data_root", text)
          : dir.resolve(text).normalize();
    }
    Path base = dataRoot != null ? dataRoot : dir;
    List<Path> objectRoots = objectRoots(file, dataRoot, root.get("object_roots"));
    List<ConfiguredCollection> out = new ArrayList<>();
    JsonNode cols = root.get("collections");
    if (cols != null && !cols.isNull()) {
      if (!cols.isObject()) {
        throw new ConfigException(file + ": \"collections\" must map names to options");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = cols.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.add(collection(file, e.getKey(), e.getValue(), base, objectRoots));
      }
    }
    List<String> locations = new ArrayList<>();
    JsonNode locs = root.get("locations");
    if (locs != null && !locs.isNull()) {
      if (!locs.isArray()) {
        throw new ConfigException(file + ": \"locations\" must be a list of URIs of the"
            + " replicas (grpc+tcp://host:port)");
      }
      locs.forEach(l -> locations.add(l.asText()));
    }
    return new ServerConfig(dataRoot, out, locations);
  }

  /**
   * The prefixes a configuration's {@code s3://} store paths must lie under: an {@code s3://}
   * data root and the file's {@code object_roots} ({@code listed}; null when it has none).
   */
  private static List<Path> objectRoots(Path file, Path dataRoot, JsonNode listed) {
    List<Path> roots = new ArrayList<>();
    if (dataRoot instanceof ObjectPath) {
      roots.add(dataRoot.normalize());
    }
    if (listed == null || listed.isNull()) {
      return roots;
    }
    String how = file + ": \"object_roots\" must be a list of bucket prefixes"
        + " (s3://bucket/prefix)";
    if (!listed.isArray()) {
      throw new ConfigException(how);
    }
    for (JsonNode entry : listed) {
      if (!entry.isTextual() || !ObjectStore.isObjectUri(entry.asText())) {
        throw new ConfigException(how + ", got " + entry);
      }
      roots.add(objectPath(file + ": object_roots", entry.asText()).normalize());
    }
    return roots;
  }

  private static ObjectPath objectPath(String where, String uri) {
    try {
      return ObjectStores.path(uri);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where + ": " + e.getMessage(), e);
    }
  }

  /**
   * A collection from its options; relative store paths resolve against {@code base}, and every
   * store must exist so a typo fails at startup, not at the first request. For store paths the
   * operator names one by one (the command line, tests): any {@code s3://} path is allowed.
   */
  public static ConfiguredCollection collection(
      Path file, String name, JsonNode options, Path base) {
    return collection(file, name, options, base, null);
  }

  /**
   * A collection from its options, as {@link #collection(Path, String, JsonNode, Path)}, whose
   * {@code s3://} stores must each lie under one of {@code objectRoots} (null: anywhere).
   */
  static ConfiguredCollection collection(
      Path file, String name, JsonNode options, Path base, List<Path> objectRoots) {
    String where = file + ": collection \"" + name + "\"";
    if (name.isBlank()) {
      throw new ConfigException(file + ": a collection name must not be empty");
    }
    if (!options.isObject()) {
      throw new ConfigException(where + " must be a mapping of request keys");
    }
    if (options.has("collection")) {
      throw new ConfigException(where + " cannot refer to another collection");
    }
    if (!options.has("paths")) {
      throw new ConfigException(where + " has no \"paths\"");
    }
    CollectionRequest parsed;
    try {
      parsed = RequestJson.parse(options, n -> {
        throw new RequestException("collections cannot refer to each other");
      }, Set.of());
    } catch (RequestException e) {
      throw new ConfigException(where + ": " + e.getMessage(), e);
    }
    List<Path> stores = new ArrayList<>();
    for (String p : parsed.paths()) {
      Path store = ObjectStore.isObjectUri(p) ? objectPath(where, p).normalize()
          : base.resolve(p).toAbsolutePath().normalize();
      if (objectRoots != null && store instanceof ObjectPath
          && objectRoots.stream().noneMatch(store::startsWith)) {
        throw new ConfigException(where + ": store " + store + " lies outside "
            + (objectRoots.isEmpty() ? "every object root (this configuration has none)"
                : "the object roots " + objectRoots.stream().map(Path::toString).toList())
            + "; list its bucket prefix under \"object_roots\", or serve it under an s3://"
            + " data_root");
      }
      try {
        stores.add(store.toRealPath());
      } catch (IOException e) {
        throw new ConfigException(where + ": store " + store + " does not exist", e);
      } catch (ObjectStoreException e) {
        throw new ConfigException(where + ": " + e.getMessage(), e); // names the store
      }
    }
    CollectionRequest request =
        parsed.withCollection(name, stores.stream().map(Path::toString).toList());
    return new ConfiguredCollection(name, request, stores);
  }

  private static JsonNode read(Path file) {
    String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
    ObjectMapper mapper = lower.endsWith(".json") ? RequestJson.MAPPER : new YAMLMapper();
    try {
      JsonNode node = mapper.readTree(file.toFile());
      if (node == null || node.isMissingNode()) {
        throw new ConfigException(file + ": the configuration file is empty");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ConfigException(file + ": cannot parse: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
  }
}
