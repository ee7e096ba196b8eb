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

  private ObjectStoreFiles(ObjectPath store, Map<String, ObjectVersion> listed) {
    this.store = store;
    this.prefix = store.toString() + "/";
    this.listed = listed;
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

  /** The version listed for {@code file}, or null when the store has no such object. */
  private ObjectVersion version(Path file) {
    String text = file.normalize().toString();
    if (!text.startsWith(prefix)) {
      return null; // outside the store: as absent as a file that is not there
    }
    return listed.get(text.substring(prefix.length()));
  }

  long sizeIfExists(Path file) {
    ObjectVersion v = version(file);
    return v == null ? -1 : v.size();
  }

  byte[] readIfExists(Path file, String element, String what, long offset, long length,
      long maxBytes) {
    ObjectVersion v = version(file);
    if (v == null) {
      return null;
    }
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
