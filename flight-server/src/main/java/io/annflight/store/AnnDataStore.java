package io.annflight.store;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One AnnData object on disk (an {@code .h5ad} file, a Zarr v2 or v3 directory, or a MuData
 * modality inside either), opened once and shared by every reader of a collection:
 * implementations are thread-safe.
 */
public interface AnnDataStore extends AutoCloseable {

  Path path();

  /** This opening of the store's bytes (see {@link StoreGeneration}). */
  StoreGeneration generation();

  /** {@code "h5ad"} or {@code "zarr"}. */
  String format();

  /** Number of observations (rows of {@code obs}). */
  long nObs();

  DataFrameReader obs();

  DataFrameReader var();

  /** {@code raw/var}, when the store has {@code raw}. */
  Optional<DataFrameReader> rawVar();

  /** Names under {@code layers}, sorted. */
  List<String> layerNames();

  /** Names under {@code obsm}, sorted. */
  List<String> obsmNames();

  boolean hasRaw();

  /** Whether the store has an X (anndata 0.11 writes obs-only stores without one). */
  boolean hasX();

  /** MuData modalities under {@code mod}, sorted; empty for a plain AnnData store. */
  List<String> modalities();

  /**
   * What an element is without reading it: {@code array}, {@code csr_matrix},
   * {@code csc_matrix}, {@code dataframe}, {@code null}, {@code string}, {@code compound},
   * another encoding-type, or {@code absent}.
   */
  String elementKind(String elementPath);

  /**
   * The matrix at an element path: {@code X}, {@code raw/X}, {@code layers/<key>},
   * {@code obsm/<key>}. Empty when the store has no such element.
   *
   * @throws UnsupportedLayoutException when the element exists but cannot be read as a matrix
   */
  Optional<MatrixReader> matrix(String elementPath);

  @Override
  void close();
}
