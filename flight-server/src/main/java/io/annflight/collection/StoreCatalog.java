package io.annflight.collection;

import io.annflight.store.AnnDataStore;
import io.annflight.store.FileStamp;
import io.annflight.store.StoreException;
import io.annflight.store.StoreLocation;
import io.annflight.store.StoreResourceException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens each store once (by normalised absolute path) and shares it across requests, as long
 * as the file on disk stays the same: a store whose {@link FileStamp} changed (replaced by
 * rename, rewritten in place) is opened anew for new requests, and the old handle is closed once the
 * streams still reading it have finished.
 *
 * <p>Opens run on the catalogue's own threads, never under a lock: a store that is slow to open
 * (a hung network file system) delays only the requests that need it, and those wait at most
 * the open timeout.
 */
public final class StoreCatalog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreCatalog.class);
  public static final Duration DEFAULT_OPEN_TIMEOUT = Duration.ofSeconds(30);

  private final Function<Path, AnnDataStore> opener;
  private final Duration openTimeout;
  private final ExecutorService opening = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "annflight-store-open");
    t.setDaemon(true);
    return t;
  });
  private final Map<Path, Entry> open = new ConcurrentHashMap<>();
  private final Map<Path, Long> lastUsed = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong clock =
      new java.util.concurrent.atomic.AtomicLong();
  private final int maxOpen;
  private final ObsColumnCache obsColumns;

  /** One opening (or opened) store: the file it was opened from, and the handle to come. */
  private record Entry(FileStamp identity, CompletableFuture<StoreHandle> handle) {}

  public StoreCatalog(Function<Path, AnnDataStore> opener) {
    this(opener, DEFAULT_OPEN_TIMEOUT);
  }

  public StoreCatalog(Function<Path, AnnDataStore> opener, Duration openTimeout) {
    this(opener, openTimeout, 0);
  }

  /**
   * @param maxOpen the most stores kept open (0: no limit): past it the least recently used is
   *     retired, closing once no stream uses it (a later request opens it again)
   */
  public StoreCatalog(Function<Path, AnnDataStore> opener, Duration openTimeout, int maxOpen) {
    this(opener, openTimeout, maxOpen, new ObsColumnCache(ObsColumnCache.DEFAULT_BYTES));
  }

  /** @param obsColumns where the stores' obs columns are kept once read */
  public StoreCatalog(Function<Path, AnnDataStore> opener, Duration openTimeout, int maxOpen,
      ObsColumnCache obsColumns) {
    if (maxOpen < 0) {
      throw new IllegalArgumentException("maxOpen must be 0 (no limit) or positive");
    }
    this.opener = opener;
    this.openTimeout = openTimeout;
    this.maxOpen = maxOpen;
    this.obsColumns = obsColumns;
  }

  /** The obs columns of every store opened here, kept within one budget. */
  public ObsColumnCache obsColumns() {
    return obsColumns;
  }

  /** Stores open (or opening) now. */
  public int size() {
    return open.size();
  }

  /**
   * The open store at {@code path}, opening it (again) when it was never opened or the file
   * changed since.
   *
   * @throws StoreException what opening the store threw, or that it took longer than the timeout
   */
  public StoreHandle get(Path path) {
    return getAll(List.of(path)).get(0);
  }

  /**
   * The open stores at {@code paths}, in order: every store not yet open starts opening at once
   * (on its own thread), then each is awaited, so a collection of many stores opens in the time
   * of its slowest store rather than of their sum.
   *
   * @throws StoreException what opening a store threw, or that it took longer than the timeout
   */
  public List<StoreHandle> getAll(List<Path> paths) {
    List<Path> keys = new java.util.ArrayList<>(paths.size());
    List<Entry> entries = new java.util.ArrayList<>(paths.size());
    for (Path path : paths) {
      Path key = path.toAbsolutePath().normalize();
      keys.add(key);
      entries.add(begin(key));
    }
    List<StoreHandle> handles = new java.util.ArrayList<>(paths.size());
    for (int i = 0; i < keys.size(); i++) {
      handles.add(await(keys.get(i), entries.get(i)));
    }
    return handles;
  }

  /** The entry of a store, starting to open it when it is new or its file changed. */
  private Entry begin(Path key) {
    // A modality inside a file (data.h5mu/mod/rna) is as new as its file.
    FileStamp identity = FileStamp.of(StoreLocation.of(key).container());
    Entry[] created = new Entry[1];
    Entry entry = open.compute(key, (k, current) -> {
      if (current != null && current.identity().equals(identity)) {
        return current;
      }
      if (current != null) {
        current.handle().thenAccept(StoreHandle::retire);
        LOG.info("{} changed on disk; opening it again for new requests", k);
      }
      created[0] = new Entry(identity, new CompletableFuture<>());
      return created[0];
    });
    lastUsed.put(key, clock.incrementAndGet());
    if (created[0] != null) {
      startOpening(key, created[0]);
      evictBeyondLimit(key);
    }
    return entry;
  }

  /** Retires the least recently used stores (never {@code keep}) while more are open than allowed. */
  private void evictBeyondLimit(Path keep) {
    if (maxOpen == 0) {
      return;
    }
    while (open.size() > maxOpen) {
      Path oldest = null;
      long oldestUse = Long.MAX_VALUE;
      for (Map.Entry<Path, Long> e : lastUsed.entrySet()) {
        if (!e.getKey().equals(keep) && open.containsKey(e.getKey())
            && e.getValue() < oldestUse) {
          oldest = e.getKey();
          oldestUse = e.getValue();
        }
      }
      if (oldest == null) {
        return;
      }
      Entry evicted = open.remove(oldest);
      lastUsed.remove(oldest);
      if (evicted != null) {
        evicted.handle().thenAccept(StoreHandle::retire);
        LOG.info("closing {} once unused: more than {} stores open (--max-open-stores)",
            oldest, maxOpen);
      }
    }
  }

  private void startOpening(Path key, Entry entry) {
    opening.execute(() -> {
      try {
        AnnDataStore store = opener.apply(key);
        LOG.info("opened {} ({}, {} obs)", key, store.format(), store.nObs());
        entry.handle().complete(new StoreHandle(store, obsColumns));
      } catch (Throwable t) {
        // Not cached: the next request tries again (the file may have been fixed).
        open.remove(key, entry);
        entry.handle().completeExceptionally(t);
      }
    });
  }

  private StoreHandle await(Path key, Entry entry) {
    try {
      return entry.handle().get(openTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof OutOfMemoryError oom) {
        throw StoreResourceException.outOfMemory(key, "", "opening the store", oom);
      }
      if (cause instanceof Error err) {
        throw new StoreException(key, "", "opening failed: " + err, err);
      }
      throw new StoreException(key, "", "opening failed: " + cause, cause);
    } catch (TimeoutException e) {
      throw new StoreOpenTimeoutException(key, openTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(key, "", "interrupted while the store was opening");
    }
  }

  @Override
  public void close() {
    opening.shutdownNow();
    open.values().forEach(e -> e.handle().thenAccept(h -> {
      try {
        h.store().close();
      } catch (RuntimeException ex) {
        LOG.warn("closing {} failed: {}", h.path(), ex.toString());
      }
    }));
    open.clear();
  }
}
