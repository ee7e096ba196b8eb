package io.annflight.store.source;

/**
 * The server's object store, made from its settings when an {@code s3://} path is first met:
 * one client and one pair of caches for every bucket, store and stream of the process.
 */
public final class ObjectStores {
  private static ObjectStoreSettings settings = ObjectStoreSettings.defaults();
  private static ObjectStore store;

  private ObjectStores() {}

  /** Sets how buckets are reached; before the first {@code s3://} path is made. */
  public static synchronized void configure(ObjectStoreSettings s) {
    if (store != null) {
      store.close();
      store = null;
    }
    settings = s;
  }

  /** The process's object store, made on first use. */
  public static synchronized ObjectStore get() {
    if (store == null) {
      store = new ObjectStore(settings);
    }
    return store;
  }

  /** The path of an {@code s3://bucket/key} URI in the process's object store. */
  public static ObjectPath path(String uri) {
    return get().path(uri);
  }

  /** The process's object store if one was made, else null (for gauges, which make none). */
  public static synchronized ObjectStore current() {
    return store;
  }
}
