package io.annflight.flight.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The callers a server accepts, from a YAML or JSON file:
 * {@code {"tokens": [{"name": "alice", "sha256": "<hex sha-256 of the token>", "collections":
 * ["pbmc"], "paths": false}], "users": [{"name": "bob", "password": "pbkdf2-sha256$...",
 * "collections": ["*"]}], "issued_token_seconds": 86400}}. Users sign in with Flight's basic
 * handshake and get a bearer token that lives {@code issued_token_seconds}. Only hashes are
 * stored, so the file gives no token or password away. Names are unique across both lists.
 */
public record TokenFile(List<Entry> entries, List<User> users, Duration issuedTokenLife) {

  /** Tokens issued to users live this long unless the file says otherwise. */
  public static final Duration DEFAULT_ISSUED_TOKEN_LIFE = Duration.ofHours(24);

  /** One token: its name, the SHA-256 of its bytes (UTF-8), and its grants. */
  public record Entry(String name, byte[] sha256, Grants grants) {}

  /** One user of the basic handshake: its name, its password's hash, and its grants. */
  public record User(String name, PasswordHash password, Grants grants) {}

  public TokenFile {
    entries = List.copyOf(entries);
    users = List.copyOf(users);
  }

  public TokenFile(List<Entry> entries) {
    this(entries, List.of(), DEFAULT_ISSUED_TOKEN_LIFE);
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
    if (root == null || !(root.path("tokens").isArray() || root.path("users").isArray())) {
      throw new IllegalArgumentException(file + ": expected {\"tokens\": [...]} and/or"
          + " {\"users\": [...]}");
    }
    List<Entry> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int i = 0;
    for (JsonNode t : root.path("tokens")) {
      String where = file + ": tokens[" + i++ + "]";
      String name = name(t, where, names);
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
      out.add(new Entry(name, hash, grants(t, where, name)));
    }
    List<User> users = new ArrayList<>();
    i = 0;
    for (JsonNode u : root.path("users")) {
      String where = file + ": users[" + i++ + "]";
      String name = name(u, where, names);
      PasswordHash password;
      try {
        password = PasswordHash.parse(u.path("password").asText(""));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + " (" + name + "): " + e.getMessage());
      }
      users.add(new User(name, password, grants(u, where, name)));
    }
    JsonNode life = root.path("issued_token_seconds");
    if (!life.isMissingNode() && (!life.canConvertToLong() || life.asLong() <= 0)) {
      throw new IllegalArgumentException(file + ": \"issued_token_seconds\" must be a positive"
          + " number of seconds");
    }
    return new TokenFile(out, users, life.isMissingNode() ? DEFAULT_ISSUED_TOKEN_LIFE
        : Duration.ofSeconds(life.asLong()));
  }

  private static String name(JsonNode entry, String where, Set<String> seen) {
    String name = entry.path("name").asText("");
    if (name.isEmpty() || !seen.add(name)) {
      throw new IllegalArgumentException(where + ": needs a \"name\" unique among tokens and"
          + " users");
    }
    return name;
  }

  private static Grants grants(JsonNode entry, String where, String name) {
    Set<String> collections = new LinkedHashSet<>();
    JsonNode c = entry.path("collections");
    if (c.isTextual()) {
      collections.add(c.asText());
    } else if (c.isArray()) {
      c.forEach(n -> collections.add(n.asText()));
    } else if (!c.isMissingNode()) {
      throw new IllegalArgumentException(where + " (" + name + "): \"collections\" must be"
          + " a list of names (or \"*\")");
    }
    JsonNode paths = entry.path("paths");
    if (!paths.isMissingNode() && !paths.isBoolean()) {
      throw new IllegalArgumentException(where + " (" + name + "): \"paths\" must be true"
          + " or false");
    }
    return new Grants(name, collections, paths.asBoolean(false));
  }
}
