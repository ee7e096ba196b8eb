package io.annflight.flight.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tokens a server accepts, from a YAML or JSON file:
 * {@code {"tokens": [{"name": "alice", "sha256": "<hex sha-256 of the token>", "collections":
 * ["pbmc"], "paths": false}]}}. Only hashes are stored, so the file gives no token away.
 */
public record TokenFile(List<Entry> entries) {

  /** One token: its name, the SHA-256 of its bytes (UTF-8), and its grants. */
  public record Entry(String name, byte[] sha256, Grants grants) {}

  public TokenFile {
    entries = List.copyOf(entries);
  }

  /**
   * @throws IllegalArgumentException naming the file, the entry and what is wrong
   */
  public static TokenFile load(Path file) {
    JsonNode root;
    try {
      // YAML is a superset of JSON: one parser reads both.
      root = new YAMLMapper().readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read the token file: "
          + e.getMessage(), e);
    }
    if (root == null || !root.path("tokens").isArray()) {
      throw new IllegalArgumentException(file + ": expected {\"tokens\": [...]}");
    }
    List<Entry> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int i = 0;
    for (JsonNode t : root.get("tokens")) {
      String where = file + ": tokens[" + i++ + "]";
      String name = t.path("name").asText("");
      if (name.isEmpty() || !names.add(name)) {
        throw new IllegalArgumentException(where + ": needs a unique \"name\"");
      }
      String hex = t.path("sha256").asText("");
      byte[] hash;
      try {
        hash = HexFormat.of().parseHex(hex.toLowerCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        hash = new byte[0];
      }
      if (hash.length != 32) {
        throw new IllegalArgumentException(where + " (" + name + "): \"sha256\" must be the 64"
            + " hex digits of the token's SHA-256");
      }
      Set<String> collections = new LinkedHashSet<>();
      JsonNode c = t.path("collections");
      if (c.isTextual()) {
        collections.add(c.asText());
      } else if (c.isArray()) {
        c.forEach(n -> collections.add(n.asText()));
      } else if (!c.isMissingNode()) {
        throw new IllegalArgumentException(where + " (" + name + "): \"collections\" must be"
            + " a list of names (or \"*\")");
      }
      JsonNode paths = t.path("paths");
      if (!paths.isMissingNode() && !paths.isBoolean()) {
        throw new IllegalArgumentException(where + " (" + name + "): \"paths\" must be true"
            + " or false");
      }
      out.add(new Entry(name, hash, new Grants(name, collections, paths.asBoolean(false))));
    }
    return new TokenFile(out);
  }
}
