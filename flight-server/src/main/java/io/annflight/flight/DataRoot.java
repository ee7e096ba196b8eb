package io.annflight.flight;

import io.annflight.schema.RequestException;
import io.annflight.store.StoreNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The directory, or bucket prefix ({@code s3://bucket/prefix}), that {@code paths} in client
 * requests are relative to. A request path must be relative (not absolute, not a URI), must not
 * contain {@code ..}, and must stay inside the root once symbolic links are followed; anything
 * else is refused before a file or object is opened. Under a bucket prefix a request path is a
 * key below the prefix, checked by the same rules.
 */
public final class DataRoot {
  private final Path realRoot;

  private DataRoot(Path realRoot) {
    this.realRoot = realRoot;
  }

  /** The root directory, which must exist. */
  public static DataRoot of(Path dir) {
    try {
      Path real = dir.toRealPath();
      if (!Files.isDirectory(real)) {
        throw new IllegalArgumentException("data root " + dir + " is not a directory");
      }
      return new DataRoot(real);
    } catch (IOException e) {
      throw new IllegalArgumentException("data root " + dir + " does not exist", e);
    }
  }

  public Path path() {
    return realRoot;
  }

  /** Resolves every request path; see {@link #resolve(String)}. */
  public List<Path> resolveAll(List<String> requestPaths) {
    List<Path> out = new ArrayList<>(requestPaths.size());
    for (String p : requestPaths) {
      out.add(resolve(p));
    }
    return out;
  }

  /**
   * The real, absolute path of a request path.
   *
   * @throws RequestException when the path is absolute, climbs with {@code ..} or escapes the root
   *     through a symbolic link
   * @throws StoreNotFoundException when nothing exists there
   */
  public Path resolve(String requestPath) {
    if (requestPath == null || requestPath.isBlank()) {
      throw new RequestException("a request path must not be empty");
    }
    Path rel;
    try {
      rel = Path.of(requestPath);
    } catch (InvalidPathException e) {
      throw new RequestException("request path \"" + requestPath + "\" is not a valid path");
    }
    if (rel.isAbsolute() || rel.getRoot() != null || requestPath.startsWith("/")
        || requestPath.startsWith("\\")) {
      throw new RequestException("request path \"" + requestPath
          + "\" is absolute; paths are relative to the server's data root");
    }
    if (requestPath.contains("://")) {
      // s3://other-bucket/key or file:///etc would otherwise be a (missing) name under the root.
      throw new RequestException("request path \"" + requestPath
          + "\" is a URI; paths are relative to the server's data root");
    }
    for (Path part : rel) {
      if (part.toString().equals("..")) {
        throw new RequestException("request path \"" + requestPath
            + "\" contains \"..\"; paths must stay inside the server's data root");
      }
    }
    Path candidate = realRoot.resolve(rel).normalize();
    if (!candidate.startsWith(realRoot)) {
      throw new RequestException(
          "request path \"" + requestPath + "\" lies outside the server's data root");
    }
    Path real;
    try {
      io.annflight.store.StoreLocation location = io.annflight.store.StoreLocation.of(candidate);
      // A modality inside a file (data.h5mu/mod/rna): the file must lie inside the root.
      real = location.group().isEmpty() ? candidate.toRealPath()
          : location.container().toRealPath().resolve(location.group());
    } catch (NoSuchFileException e) {
      if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
        // A dangling link: say where it fails without revealing where it points.
        throw new StoreNotFoundException(Path.of(requestPath), "",
            "symbolic link target does not exist");
      }
      throw new StoreNotFoundException(Path.of(requestPath), "",
          "no such file or directory under the data root");
    } catch (IOException e) {
      throw new StoreNotFoundException(Path.of(requestPath), "",
          "cannot be accessed: " + e.getMessage());
    }
    if (!real.startsWith(realRoot)) {
      throw new RequestException("request path \"" + requestPath
          + "\" leads outside the server's data root through a symbolic link");
    }
    if (real.equals(realRoot)) {
      throw new RequestException("request path \"" + requestPath
          + "\" names the data root itself; name a store inside it");
    }
    return real;
  }
}
