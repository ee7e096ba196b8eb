package io.annflight.store.source;

import java.io.IOException;
import java.net.URI;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A key, or a key prefix taken as a directory, in one bucket: {@code s3://bucket/a/b.zarr}.
 * It lets the server's path-based code (the data root's sandbox, store locations, the Zarr
 * tree) work on objects as on files. Absolute paths name the bucket; relative ones are the
 * names that follow. {@code ..} is only ever resolved textually, by {@link #normalize}.
 */
public final class ObjectPath implements Path {
  private final ObjectFileSystem fs;
  private final boolean absolute;
  private final String[] names;
  /**
   * How many of the names lead to an object a listing found (0: none known). A path below an
   * object cannot be a file or a directory, as below a file on disk, so it is answered without
   * a request (some S3-compatible stores fail such requests with 500 rather than 404).
   */
  private final int objectAt;

  ObjectPath(ObjectFileSystem fs, boolean absolute, String[] names) {
    this(fs, absolute, names, 0);
  }

  private ObjectPath(ObjectFileSystem fs, boolean absolute, String[] names, int objectAt) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = names;
    this.objectAt = objectAt;
  }

  /** This path, known (from a listing) to be an object. */
  ObjectPath asListedObject() {
    return new ObjectPath(fs, absolute, names, names.length);
  }

  /** Whether the path lies below a path known to be an object. */
  boolean belowListedObject() {
    return objectAt > 0 && objectAt < names.length;
  }

  /** Parses {@code a/b} (relative) or {@code /a/b} (absolute in the file system's bucket). */
  static ObjectPath parse(ObjectFileSystem fs, String text) {
    boolean abs = text.startsWith("/");
    List<String> parts = new ArrayList<>();
    for (String p : text.split("/")) {
      if (!p.isEmpty()) {
        parts.add(p);
      }
    }
    return new ObjectPath(fs, abs, parts.toArray(String[]::new));
  }

  public String bucket() {
    return fs.bucket();
  }

  /** The object key (absolute paths): the names joined by {@code /}; empty for the bucket. */
  public String key() {
    return String.join("/", names);
  }

  /** The object store the path's bucket belongs to. */
  public ObjectStore objectStore() {
    return fs.store();
  }

  @Override
  public ObjectFileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public Path getRoot() {
    return absolute ? new ObjectPath(fs, true, new String[0]) : null;
  }

  @Override
  public Path getFileName() {
    return names.length == 0 ? null : new ObjectPath(fs, false, new String[] {names[names.length - 1]});
  }

  @Override
  public Path getParent() {
    if (names.length == 0 || (!absolute && names.length == 1)) {
      return null;
    }
    return new ObjectPath(fs, absolute, Arrays.copyOf(names, names.length - 1));
  }

  @Override
  public int getNameCount() {
    return names.length;
  }

  @Override
  public Path getName(int index) {
    return new ObjectPath(fs, false, new String[] {names[index]});
  }

  @Override
  public Path subpath(int beginIndex, int endIndex) {
    return new ObjectPath(fs, false, Arrays.copyOfRange(names, beginIndex, endIndex));
  }

  @Override
  public boolean startsWith(Path other) {
    if (!(other instanceof ObjectPath o) || o.fs != fs || o.absolute != absolute
        || o.names.length > names.length) {
      return false;
    }
    for (int i = 0; i < o.names.length; i++) {
      if (!o.names[i].equals(names[i])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean endsWith(Path other) {
    if (!(other instanceof ObjectPath o) || o.fs != fs || o.names.length > names.length
        || (o.absolute && !(absolute && o.names.length == names.length))) {
      return false;
    }
    int off = names.length - o.names.length;
    for (int i = 0; i < o.names.length; i++) {
      if (!o.names[i].equals(names[off + i])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Path normalize() {
    if (Arrays.stream(names).noneMatch(n -> n.equals(".") || n.equals(".."))) {
      return this;
    }
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".")) {
        continue;
      }
      if (n.equals("..")) {
        if (!out.isEmpty() && !out.get(out.size() - 1).equals("..")) {
          out.remove(out.size() - 1);
          continue;
        }
        if (absolute) {
          continue; // above the bucket is the bucket
        }
      }
      out.add(n);
    }
    return new ObjectPath(fs, absolute, out.toArray(String[]::new));
  }

  /**
   * This path followed by {@code other}. A relative path of the local file system (a request
   * path) is taken by its names, so the data root's checks work as they do for directories.
   */
  @Override
  public Path resolve(Path other) {
    String[] more;
    if (other instanceof ObjectPath o) {
      if (o.absolute) {
        return o;
      }
      more = o.names;
    } else {
      if (other.isAbsolute()) {
        throw new ProviderMismatchException("cannot resolve the local absolute path " + other
            + " against " + this);
      }
      List<String> parts = new ArrayList<>();
      for (Path p : other) {
        if (!p.toString().isEmpty()) {
          parts.add(p.toString());
        }
      }
      more = parts.toArray(String[]::new);
    }
    String[] all = Arrays.copyOf(names, names.length + more.length);
    System.arraycopy(more, 0, all, names.length, more.length);
    return new ObjectPath(fs, absolute, all, objectAt);
  }

  @Override
  public Path relativize(Path other) {
    if (!(other instanceof ObjectPath o) || o.fs != fs || o.absolute != absolute) {
      throw new IllegalArgumentException(other + " cannot be made relative to " + this);
    }
    int common = 0;
    while (common < names.length && common < o.names.length
        && names[common].equals(o.names[common])) {
      common++;
    }
    List<String> out = new ArrayList<>();
    for (int i = common; i < names.length; i++) {
      out.add("..");
    }
    out.addAll(Arrays.asList(o.names).subList(common, o.names.length));
    return new ObjectPath(fs, false, out.toArray(String[]::new));
  }

  @Override
  public URI toUri() {
    return URI.create(toString());
  }

  @Override
  public Path toAbsolutePath() {
    return absolute ? this : getRootOfBucket().resolve(this);
  }

  private Path getRootOfBucket() {
    return new ObjectPath(fs, true, new String[0]);
  }

  /** The normalized absolute path, when something (an object or a prefix) is there. */
  @Override
  public Path toRealPath(LinkOption... options) throws IOException {
    ObjectPath real = (ObjectPath) toAbsolutePath().normalize();
    fs.provider().readAttributes(real, java.nio.file.attribute.BasicFileAttributes.class);
    return real;
  }

  @Override
  public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events,
      WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("objects cannot be watched");
  }

  @Override
  public int compareTo(Path other) {
    return toString().compareTo(other.toString());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectPath p && p.fs == fs && p.absolute == absolute
        && Arrays.equals(p.names, names);
  }

  @Override
  public int hashCode() {
    return fs.hashCode() * 31 + Arrays.hashCode(names) + (absolute ? 1 : 0);
  }

  /** {@code s3://bucket/key} for absolute paths, the names for relative ones. */
  @Override
  public String toString() {
    if (!absolute) {
      return key();
    }
    return names.length == 0 ? "s3://" + fs.bucket() : "s3://" + fs.bucket() + "/" + key();
  }
}
