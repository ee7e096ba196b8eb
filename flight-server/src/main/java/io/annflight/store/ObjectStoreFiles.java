package io.annflight.store;

import io.annflight.store.source.ObjectPath;
import io.annflight.store.source.ObjectStoreException;
import io.annflight.store.source.ObjectVersion;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The objects of a directory store in a bucket ({@code s3://bucket/a.zarr}), as listed when the
 * store was opened. Every chunk is read at the version listed: an object replaced in the bucket
 * since fails the read ("request again") and is never mixed into the store's other chunks, as a
 * replaced directory is refused on disk. Keys are those under the store's prefix only, so a
 * request can reach nothing outside it.
 */
final class ObjectStoreFiles {
  private final ObjectPath store;
  private final String prefix;
  private final Map<String, ObjectVersion> listed;
  private final ObjectChunkReadAhead readAhead;

  private ObjectStoreFiles(ObjectPath store, Map<String, ObjectVersion> listed) {
    this.store = store;
    this.prefix = store.toString() + "/";
    this.listed = listed;
    this.readAhead = new ObjectChunkReadAhead(store.objectStore(), listed);
  }

  static ObjectStoreFiles of(ObjectPath store) {
    try {
      return new ObjectStoreFiles(store, store.objectStore().snapshot(store));
    } catch (NoSuchFileException e) {
      throw new StoreNotFoundException(store, "", "cannot be listed: " + e.getMessage());
    } catch (IOException e) {
      throw new StoreException(store, "", "cannot be listed: " + e.getMessage(), e);
    }
  }

  /** {@code file}'s key under the store, or null when it lies outside the store. */
  private String key(Path file) {
    String text = file.normalize().toString();
    return text.startsWith(prefix) ? text.substring(prefix.length()) : null;
  }

  /**
   * The names of the "directories" directly under {@code dir} (inside the store) whose key
   * plus {@code "/"} plus one of {@code markers} was listed: a Zarr group's child groups and
   * arrays, as listed when the store was opened, without asking the bucket.
   */
  java.util.List<String> childDirectories(Path dir, java.util.List<String> markers) {
    String text = dir.normalize().toString();
    String key = key(dir);
    if (key == null && !text.equals(store.toString())) {
      return java.util.List.of(); // outside the store
    }
    String under = key == null ? "" : key + "/";
    java.util.TreeSet<String> names = new java.util.TreeSet<>();
    for (String k : listed.keySet()) {
      if (!k.startsWith(under)) {
        continue;
      }
      int slash = k.indexOf('/', under.length());
      if (slash > under.length() && markers.contains(k.substring(slash + 1))) {
        names.add(k.substring(under.length(), slash));
      }
    }
    return java.util.List.copyOf(names);
  }

  boolean readsAhead() {
    return store.objectStore().readAheadBytes() > 0;
  }

  /** Starts fetching {@code file}'s object (whole) in the background unless cached. */
  void prefetch(Path file) {
    String key = key(file);
    ObjectVersion v = key == null ? null : listed.get(key);
    if (v != null) {
      store.objectStore().prefetch(v, 0, v.size());
    }
  }

  long sizeIfExists(Path file) {
    String key = key(file);
    ObjectVersion v = key == null ? null : listed.get(key);
    return v == null ? -1 : v.size();
  }

  byte[] readIfExists(Path file, String element, String what, long offset, long length,
      long maxBytes) {
    String key = key(file);
    // Outside the store: as absent as a file that is not there.
    ObjectVersion v = key == null ? null : listed.get(key);
    if (v == null) {
      return null;
    }
    readAhead.reading(key);
    long want = length < 0 ? v.size() - offset : length;
    if (offset < 0 || want < 0 || offset + want > v.size()) {
      throw new MalformedStoreException(store, element, what + ": bytes [" + offset + ", "
          + (offset + want) + ") lie past the end of the object (" + v.size() + " bytes)");
    }
    if (want > maxBytes) {
      throw new MalformedStoreException(store, element, what + " holds " + want
          + " bytes, more than it can (at most " + maxBytes + " for what it stores)");
    }
    try {
      return store.objectStore().read(v, offset, (int) want);
    } catch (ObjectStoreException e) {
      throw new StoreException(store, element, "cannot read " + what + ": " + e.getMessage(), e);
    }
  }
}
