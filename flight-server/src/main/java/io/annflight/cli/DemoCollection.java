package io.annflight.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The small demo collection shipped inside the jar (written by tools/fixtures with the real
 * anndata library). Stores are read from the file system, so it is extracted once to
 * {@code <java.io.tmpdir>/annflight-demo-<version>}. Which files to extract comes from
 * {@code demo/files.txt}, since a jar cannot list a resource directory.
 */
public final class DemoCollection {
  static final String PREFIX = "demo/";
  static final String LISTING = PREFIX + "files.txt";
  public static final String CONFIG = "collection.json";

  private DemoCollection() {}

  /** The directory holding the demo stores and its {@code collection.json}. */
  public static Path extract(String version) {
    return extract(version, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** Extracts into {@code parent/annflight-demo-<version>} unless a complete copy is there. */
  static Path extract(String version, Path parent) {
    Path target = parent.resolve("annflight-demo-" + version);
    if (Files.isRegularFile(target.resolve(".complete"))) {
      return target;
    }
    try {
      Path staging = Files.createTempDirectory(target.getParent(), "annflight-demo-staging");
      for (String file : listing()) {
        Path out = staging.resolve(file).normalize();
        if (!out.startsWith(staging)) {
          throw new IllegalStateException("demo listing escapes its directory: " + file);
        }
        Files.createDirectories(out.getParent());
        try (InputStream in = resource(PREFIX + file)) {
          Files.copy(in, out);
        }
      }
      Files.writeString(staging.resolve(".complete"), version);
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException
          | java.nio.file.DirectoryNotEmptyException e) {
        // Another server extracted it first (or a stale partial copy exists): use what is there
        // only if complete.
        if (!Files.isRegularFile(target.resolve(".complete"))) {
          throw new IOException("cannot extract the demo to " + target + ": " + e, e);
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the demo collection: " + e.getMessage(), e);
    }
  }

  /** Relative paths of the demo's files, as listed in {@code demo/files.txt}. */
  static List<String> listing() throws IOException {
    try (InputStream in = resource(LISTING)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = DemoCollection.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException("resource " + name + " is missing from the jar");
    }
    return in;
  }
}
