package io.annflight.store.zarr;

import io.annflight.store.ChunkCache;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreFiles;
import io.annflight.store.StoreNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The hierarchy of a Zarr v2 directory store: which element paths are groups or arrays, their
 * attributes, and opening arrays. Element paths are {@code /}-separated and relative to the root
 * ({@code ""} is the root group).
 */
final class ZarrTree {

  static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final ChunkCache cache;
  private final StoreFiles files;

  ZarrTree(Path root, ChunkCache cache) {
    this.root = root;
    this.cache = cache;
    this.files = StoreFiles.of(root);
  }

  /** Every file of the store is read through this: inside the store, regular files only. */
  StoreFiles files() {
    return files;
  }

  Path root() {
    return root;
  }

  ChunkCache cache() {
    return cache;
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

  boolean isGroup(String element) {
    return Files.isRegularFile(dir(element).resolve(".zgroup"));
  }

  boolean isArray(String element) {
    return Files.isRegularFile(dir(element).resolve(".zarray"));
  }

  boolean exists(String element) {
    return isGroup(element) || isArray(element);
  }

  /** The {@code .zattrs} object of an element; an empty object when it has none. */
  JsonNode attrs(String element) {
    JsonNode attrs = readJson(element, ".zattrs", false);
    if (attrs.isMissingNode()) {
      return JSON.createObjectNode();
    }
    if (!attrs.isObject()) {
      throw new MalformedStoreException(root, element, ".zattrs is not a JSON object");
    }
    return attrs;
  }

  /** The {@code encoding-type} attribute, or "" when absent (anndata < 0.8 arrays). */
  String encodingType(String element) {
    return attrs(element).path("encoding-type").asText("");
  }

  /** Reads a metadata file; missing -> MissingNode unless required. */
  JsonNode readJson(String element, String file, boolean required) {
    byte[] bytes = files.readIfExists(dir(element).resolve(file), element, file);
    if (bytes == null) {
      if (required) {
        throw new StoreNotFoundException(root, element, "expected " + file + " but there is none");
      }
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
    List<String> names = new ArrayList<>();
    Path d = dir(element);
    if (!Files.isDirectory(d)) {
      return names;
    }
    try (Stream<Path> s = Files.list(d)) {
      s.filter(
              p -> Files.isRegularFile(p.resolve(".zgroup")) || Files.isRegularFile(p.resolve(".zarray")))
          .map(p -> p.getFileName().toString())
          .sorted()
          .forEach(names::add);
    } catch (IOException e) {
      throw new StoreException(root, element, "cannot list group: " + e, e);
    }
    return names;
  }

  ZarrArray array(String element) {
    if (!isArray(element)) {
      String what = isGroup(element) ? "is a group" : "does not exist";
      throw new StoreNotFoundException(root, element, "expected a Zarr array but it " + what);
    }
    return new ZarrArray(this, element, ZarrArrayMeta.parse(root, element, readJson(element, ".zarray", true)));
  }
}
