package io.annflight.store.zarr;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.store.ChunkCache;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.ParallelTasks;
import io.annflight.store.StoreException;
import io.annflight.store.StoreFiles;
import io.annflight.store.UnsupportedLayoutException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The hierarchy of a Zarr directory store, v2 ({@code .zgroup}, {@code .zarray},
 * {@code .zattrs}) or v3 (one {@code zarr.json} per node, attributes inside it): which element
 * paths are groups or arrays, their attributes, and opening arrays. v3 consolidated metadata in
 * the root is not needed and not used: every node's own {@code zarr.json} is read, so a store
 * whose consolidated copy is stale still reads as it is on disk. Element paths are
 * {@code /}-separated and relative to the root ({@code ""} is the root group).
 */
final class ZarrTree {

  static final ObjectMapper JSON = new ObjectMapper();
  /** A metadata file larger than this is not metadata (v3 roots inline the whole tree). */
  private static final long MAX_METADATA_BYTES = 64L << 20;

  enum Version {
    V2,
    V3
  }

  /** A node's kind and attributes, from its metadata file(s). */
  record NodeMeta(boolean group, ObjectNode attributes, JsonNode arrayJson) {}

  private final Path root;
  private final ChunkCache.Scope cache;
  private final StoreFiles files;
  private final Version version;
  private final ParallelTasks decoder;

  ZarrTree(Path root, ChunkCache.Scope cache, Version version, ParallelTasks decoder) {
    this.root = root;
    this.cache = cache;
    this.decoder = decoder;
    this.files = StoreFiles.of(root);
    this.version = version;
  }

  /** The version of the store at {@code root} by its root metadata; null when it has none. */
  static Version detect(Path root) {
    if (Files.isRegularFile(root.resolve(".zgroup")) || Files.isRegularFile(root.resolve(".zarray"))) {
      return Version.V2;
    }
    if (Files.isRegularFile(root.resolve("zarr.json"))) {
      return Version.V3;
    }
    return null;
  }

  /** Every file of the store is read through this: inside the store, regular files only. */
  StoreFiles files() {
    return files;
  }

  Path root() {
    return root;
  }

  ChunkCache.Scope cache() {
    return cache;
  }

  Version version() {
    return version;
  }

  ParallelTasks decoder() {
    return decoder;
  }

  static String join(String parent, String child) {
    return parent.isEmpty() ? child : parent + "/" + child;
  }

  Path dir(String element) {
    if (element.isEmpty()) {
      return root;
    }
    for (String part : element.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new MalformedStoreException(root, element, "invalid element name '" + part + "'");
      }
    }
    return root.resolve(element);
  }

  /** The node at an element path; null when there is none. */
  NodeMeta node(String element) {
    return version == Version.V2 ? nodeV2(element) : nodeV3(element);
  }

  private NodeMeta nodeV2(String element) {
    JsonNode group = readJson(element, ".zgroup");
    JsonNode array = group.isMissingNode() ? readJson(element, ".zarray") : MissingNode.getInstance();
    if (group.isMissingNode() && array.isMissingNode()) {
      return null;
    }
    JsonNode attrs = readJson(element, ".zattrs");
    if (!attrs.isMissingNode() && !attrs.isObject()) {
      throw new MalformedStoreException(root, element, ".zattrs is not a JSON object");
    }
    ObjectNode a = attrs.isObject() ? (ObjectNode) attrs : JSON.createObjectNode();
    return new NodeMeta(!group.isMissingNode(), a, group.isMissingNode() ? array : null);
  }

  private NodeMeta nodeV3(String element) {
    JsonNode meta = readJson(element, "zarr.json");
    if (meta.isMissingNode()) {
      return null;
    }
    if (!meta.isObject()) {
      throw new MalformedStoreException(root, element, "zarr.json is not a JSON object");
    }
    if (meta.path("zarr_format").asInt(-1) != 3) {
      throw new UnsupportedLayoutException(root, element, "zarr.json says zarr_format "
          + meta.path("zarr_format") + " in a Zarr v3 store, expected 3");
    }
    String type = meta.path("node_type").asText("");
    JsonNode attrs = meta.path("attributes");
    if (!attrs.isMissingNode() && !attrs.isObject()) {
      throw new MalformedStoreException(root, element, "zarr.json 'attributes' is not an object");
    }
    ObjectNode a = attrs.isObject() ? (ObjectNode) attrs : JSON.createObjectNode();
    return switch (type) {
      case "group" -> new NodeMeta(true, a, null);
      case "array" -> new NodeMeta(false, a, meta);
      default -> throw new MalformedStoreException(root, element, "zarr.json has node_type '"
          + type + "', expected group or array");
    };
  }

  /** Reads a metadata file; a missing node when there is none. */
  JsonNode readJson(String element, String file) {
    byte[] bytes = files.readIfExists(dir(element).resolve(file), element, file, 0, -1,
        MAX_METADATA_BYTES);
    if (bytes == null) {
      return MissingNode.getInstance();
    }
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node == null || node.isMissingNode()) {
        throw new MalformedStoreException(root, element, file + " is empty, expected JSON");
      }
      return node;
    } catch (JacksonException e) {
      throw new MalformedStoreException(
          root, element, file + " is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new StoreException(root, element, "cannot read " + file + ": " + e, e);
    }
  }

  /** Child element names (groups and arrays) of a group, sorted. */
  List<String> children(String element) {
    Path d = dir(element);
    // A store in a bucket: from the listing it was opened on, without a request per node.
    List<String> listed = files.listedChildDirectories(d, version == Version.V2
        ? List.of(".zgroup", ".zarray") : List.of("zarr.json"));
    if (listed != null) {
      return listed;
    }
    List<String> names = new ArrayList<>();
    if (!Files.isDirectory(d)) {
      return names;
    }
    try (Stream<Path> s = Files.list(d)) {
      s.filter(this::isNodeDir)
          .map(p -> p.getFileName().toString())
          .sorted()
          .forEach(names::add);
    } catch (IOException e) {
      throw new StoreException(root, element, "cannot list group: " + e, e);
    }
    return names;
  }

  private boolean isNodeDir(Path p) {
    if (version == Version.V2) {
      return Files.isRegularFile(p.resolve(".zgroup")) || Files.isRegularFile(p.resolve(".zarray"));
    }
    return Files.isRegularFile(p.resolve("zarr.json"));
  }

  ZarrArray array(String element, JsonNode arrayJson) {
    ZarrArrayMeta meta = version == Version.V2
        ? ZarrArrayMeta.parseV2(root, element, arrayJson)
        : ZarrV3Metadata.parse(root, element, arrayJson);
    return new ZarrArray(this, element, meta);
  }
}
