package io.annflight.collection;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.annflight.schema.RequestException;
import io.annflight.store.AnnDataStore;
import io.annflight.store.ColumnData;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MatrixReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An open store plus what plans read from it again and again: the var index and matrix readers,
 * read once and kept; obs columns, read when a request needs them and kept in the server's
 * bounded {@link ObsColumnCache} under this opening's id. Thread-safe.
 */
public final class StoreHandle {
  private static final Logger LOG = LoggerFactory.getLogger(StoreHandle.class);
  private static final AtomicLong IDS = new AtomicLong();

  private final long id = IDS.incrementAndGet();
  private final AnnDataStore store;
  /** Streams and calls using the store now; a retired store closes when this reaches zero. */
  private int leases;
  private boolean retired;
  private boolean closed;
  private final ObsColumnCache obsColumns;
  private final Map<String, Optional<MatrixReader>> matrices = new ConcurrentHashMap<>();
  /** Projected readers by element and map, shared by the plans that ask for the same one. */
  private final Map<ProjectionKey, MatrixReader> projections = new ConcurrentHashMap<>();
  /** Projections kept per store; a new one past this many starts the map over. */
  private static final int MAX_PROJECTIONS = 16;
  private volatile List<String> varIndex;

  StoreHandle(AnnDataStore store, ObsColumnCache obsColumns) {
    this.store = store;
    this.obsColumns = obsColumns;
  }

  public AnnDataStore store() {
    return store;
  }

  /** Unique per opening: a store opened again (its file changed) gets another id. */
  long id() {
    return id;
  }

  /** Takes a lease on the open store; false when it is already closed (replaced meanwhile). */
  synchronized boolean acquire() {
    if (closed) {
      return false;
    }
    leases++;
    return true;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  synchronized void release() {
    leases--;
    if (leases == 0 && retired) {
      closeStore();
    }
  }

  /** The file changed on disk: close the store once nobody uses it (at once when nobody does). */
  synchronized void retire() {
    retired = true;
    if (leases == 0) {
      closeStore();
    }
  }

  private void closeStore() {
    if (closed) {
      return;
    }
    closed = true;
    obsColumns.forget(id);
    // Its projected rows go with it (the engine's cache is shared by every store); what the
    // handle itself holds goes when nothing refers to it (the catalogue and plans let go).
    projections.values().forEach(p -> {
      if (p instanceof ProjectedMatrix m) {
        m.dropCached();
      }
    });
    try {
      store.close();
      LOG.info("closed {}, which was replaced on disk", store.path());
    } catch (RuntimeException e) {
      LOG.warn("closing {} failed: {}", store.path(), e.toString());
    }
  }

  public Path path() {
    return store.path();
  }

  public long nObs() {
    return store.nObs();
  }

  public List<String> varIndex() {
    List<String> v = varIndex;
    if (v == null) {
      v = List.copyOf(store.var().index());
      varIndex = v;
    }
    return v;
  }

  private final Map<String, List<String>> varColumns = new ConcurrentHashMap<>();

  /**
   * The variables' names as {@code var_names} matches them: the var index (key null), the
   * values of a var column (text labels of any column type), or {@code raw/var}'s index
   * ({@code raw} true, key null).
   *
   * @throws RequestException when the store has no such column
   */
  public List<String> varNames(String key, boolean raw) {
    if (key == null && !raw) {
      return varIndex(); // read once, shared with the joins
    }
    String cacheKey = (raw ? "raw\u0000" : "") + (key == null ? "" : "col\u0000" + key);
    return varColumns.computeIfAbsent(cacheKey, k -> {
      DataFrameReader frame = raw ? store.rawVar().orElseThrow(() -> new RequestException(
          "raw.X of " + path().getFileName() + " has no raw/var to match var_names against"))
          : store.var();
      if (key == null) {
        return List.copyOf(frame.index());
      }
      if (!frame.hasColumn(key)) {
        throw new RequestException("var_key \"" + key + "\": " + path().getFileName()
            + " has no column " + frame.elementPath() + "/" + key + " (columns: "
            + frame.columnNames() + ")");
      }
      ColumnData c = frame.column(key);
      List<String> out = new java.util.ArrayList<>(c.length());
      for (int i = 0; i < c.length(); i++) {
        Object v = LabelValues.labelAt(c, i, LabelValues.typeOf(c));
        out.add(v == null ? null : v.toString());
      }
      return java.util.Collections.unmodifiableList(out);
    });
  }

  /**
   * The obs column (compact, see {@link CompactColumns}), or empty when the store has no such
   * column. Read on first use and kept while the obs cache has room; read again after eviction.
   */
  public Optional<ColumnData> obsColumn(String key) {
    DataFrameReader obs = store.obs();
    if (!obs.hasColumn(key)) {
      return Optional.empty();
    }
    return Optional.of(obsColumns.get(id, key, () -> CompactColumns.compact(obs.column(key))));
  }

  /**
   * The matrix behind a layers key ({@code X}, {@code raw.X}, a layer name) or an obsm key
   * (given as {@code obsm/<key>}); empty when the store lacks it.
   */
  public Optional<MatrixReader> matrix(String elementPath) {
    return matrices.computeIfAbsent(elementPath, store::matrix);
  }

  /**
   * The projection of an element through a column map for the cache {@code owner} keeps its
   * rows in: the one made before for the same element, map and owner (so plans that differ in
   * other keys share its cached rows; engines over one catalogue keep their own), else
   * {@code create}'s.
   */
  MatrixReader projection(String elementPath, int[] map, Object owner,
      java.util.function.Supplier<MatrixReader> create) {
    ProjectionKey key = new ProjectionKey(elementPath, map, owner);
    MatrixReader known = projections.get(key);
    if (known != null) {
      return known;
    }
    if (projections.size() >= MAX_PROJECTIONS) {
      projections.clear();
    }
    return projections.computeIfAbsent(key, k -> create.get());
  }

  /** An element and a column map, compared by content, and their owner, by identity. */
  private record ProjectionKey(String elementPath, int[] map, Object owner) {
    @Override
    public boolean equals(Object o) {
      return o instanceof ProjectionKey k && k.owner == owner
          && k.elementPath.equals(elementPath) && java.util.Arrays.equals(k.map, map);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * elementPath.hashCode() + java.util.Arrays.hashCode(map))
          + System.identityHashCode(owner);
    }
  }

  /** Element path of a layers key: {@code X}, {@code raw/X} or {@code layers/<key>}. */
  public static String layerElement(String layersKey) {
    return switch (layersKey) {
      case "X" -> "X";
      case "raw.X" -> "raw/X";
      default -> "layers/" + layersKey;
    };
  }

  public static String obsmElement(String obsmKey) {
    return "obsm/" + obsmKey;
  }

  /** Whether the store has the element, without reading it (layer and obsm names are listed). */
  public boolean hasLayersKey(String layersKey) {
    return switch (layersKey) {
      case "X" -> store.hasX();
      case "raw.X" -> store.hasRaw();
      default -> store.layerNames().contains(layersKey);
    };
  }

  public boolean hasObsmKey(String key) {
    return store.obsmNames().contains(key);
  }
}
