package io.annflight.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.annflight.flight.ConfiguredCollection;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
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
 * data_root: /data/atlas          # optional; relative to the file's directory
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
 * @param dataRoot null when the file sets none
 */
public record ServerConfig(Path dataRoot, List<ConfiguredCollection> collections,
    List<String> locations) {
  private static final Set<String> TOP_KEYS = Set.of("data_root", "collections", "locations");

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
      return new ServerConfig(dataRootOverride,
          List.of(collection(file, name, options, base)), List.of());
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_KEYS.contains(key)) {
        throw new ConfigException(file + ": unknown key \"" + key + "\"; expected "
            + "\"data_root\", \"collections\" and \"locations\" (or \"name\" and request keys"
            + " for one collection)");
      }
    }
    Path dataRoot = dataRootOverride;
    if (dataRoot == null && root.hasNonNull("data_root")) {
      String text = root.get("data_root").asText();
      dataRoot = io.annflight.store.source.ObjectStore.isObjectUri(text)
          ? io.annflight.store.source.ObjectStores.path(text)
          : dir.resolve(text).normalize();
    }
    Path base = dataRoot != null ? dataRoot : dir;
    List<ConfiguredCollection> out = new ArrayList<>();
    JsonNode cols = root.get("collections");
    if (cols != null && !cols.isNull()) {
      if (!cols.isObject()) {
        throw new ConfigException(file + ": \"collections\" must map names to options");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = cols.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.add(collection(file, e.getKey(), e.getValue(), base));
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
   * A collection from its options; relative store paths resolve against {@code base}, and every
   * store must exist so a typo fails at startup, not at the first request.
   */
  public static ConfiguredCollection collection(
      Path file, String name, JsonNode options, Path base) {
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
      Path store = io.annflight.store.source.ObjectStore.isObjectUri(p)
          ? io.annflight.store.source.ObjectStores.path(p).normalize()
          : base.resolve(p).toAbsolutePath().normalize();
      try {
        stores.add(store.toRealPath());
      } catch (IOException e) {
        throw new ConfigException(where + ": store " + store + " does not exist", e);
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
