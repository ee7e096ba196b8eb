package io.annflight.collection;

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
 * An open store plus what plans read from it again and again (var index, obs columns, matrix
 * readers), read once and kept. Thread-safe.
 */
public final class StoreHandle {
  private final AnnDataStore store;
  private final Map<String, Optional<ColumnData>> obsColumns = new ConcurrentHashMap<>();
  private final Map<String, Optional<MatrixReader>> matrices = new ConcurrentHashMap<>();
  private volatile List<String> varIndex;

  StoreHandle(AnnDataStore store) {
    this.store = store;
  }

  public AnnDataStore store() {
    return store;
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

  /** The obs column, or empty when the store has no such column. */
  public Optional<ColumnData> obsColumn(String key) {
    return obsColumns.computeIfAbsent(key, k -> {
      DataFrameReader obs = store.obs();
      return obs.hasColumn(k) ? Optional.of(obs.column(k)) : Optional.empty();
    });
  }

  /**
   * The matrix behind a layers key ({@code X}, {@code raw.X}, a layer name) or an obsm key
   * (given as {@code obsm/<key>}); empty when the store lacks it.
   */
  public Optional<MatrixReader> matrix(String elementPath) {
    return matrices.computeIfAbsent(elementPath, store::matrix);
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
      case "X" -> true;
      case "raw.X" -> store.hasRaw();
      default -> store.layerNames().contains(layersKey);
    };
  }

  public boolean hasObsmKey(String key) {
    return store.obsmNames().contains(key);
  }
}
