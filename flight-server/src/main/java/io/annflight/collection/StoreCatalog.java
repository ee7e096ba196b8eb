package io.annflight.collection;

import io.annflight.store.AnnDataStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens each store once (by normalised absolute path) and shares it across requests. */
public final class StoreCatalog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreCatalog.class);

  private final Function<Path, AnnDataStore> opener;
  private final Map<Path, StoreHandle> open = new ConcurrentHashMap<>();

  public StoreCatalog(Function<Path, AnnDataStore> opener) {
    this.opener = opener;
  }

  public StoreHandle get(Path path) {
    Path key = path.toAbsolutePath().normalize();
    return open.computeIfAbsent(key, p -> {
      AnnDataStore store = opener.apply(p);
      LOG.info("opened {} ({}, {} obs)", p, store.format(), store.nObs());
      return new StoreHandle(store);
    });
  }

  @Override
  public void close() {
    open.values().forEach(h -> {
      try {
        h.store().close();
      } catch (RuntimeException e) {
        LOG.warn("closing {} failed: {}", h.path(), e.toString());
      }
    });
    open.clear();
  }
}
