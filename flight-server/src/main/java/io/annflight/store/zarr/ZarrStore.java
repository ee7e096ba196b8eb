package io.annflight.store.zarr;

import io.annflight.store.ChunkCache;
import io.annflight.store.AnnDataStore;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An AnnData store in a Zarr v2 directory, read with annflight's own small v2 reader (JSON
 * metadata, chunk files, numcodecs compressors). Thread-safe: all state is immutable except the
 * shared chunk cache and memoised readers, which are concurrent.
 */
public final class ZarrStore implements AnnDataStore {

  /** Decoded-chunk cache per store; small, it mainly keeps indptr/codes/random-row chunks warm. */
  private static final long CACHE_BYTES = 64L << 20;

  private final Path path;
  private final ZarrTree tree;
  private final ZarrDataFrame obs;
  private final ZarrDataFrame var;
  private final ConcurrentHashMap<String, Optional<MatrixReader>> matrices = new ConcurrentHashMap<>();
  private volatile Optional<DataFrameReader> rawVar;

  private ZarrStore(Path path) {
    this.path = path;
    this.tree = new ZarrTree(path, new ChunkCache(CACHE_BYTES));
    this.obs = new ZarrDataFrame(tree, "obs");
    this.var = new ZarrDataFrame(tree, "var");
  }

  /**
   * Opens the store at {@code path} (a directory with a root {@code .zgroup}).
   *
   * @throws StoreNotFoundException when the path or {@code obs}/{@code var} is missing
   * @throws MalformedStoreException when the directory is not a Zarr v2 AnnData group
   */
  public static ZarrStore open(Path path) {
    if (!Files.exists(path)) {
      throw new StoreNotFoundException(path, "", "no such file or directory");
    }
    if (!Files.isDirectory(path)) {
      throw new MalformedStoreException(path, "", "expected a Zarr directory store, found a file");
    }
    ZarrTree probe = new ZarrTree(path, new ChunkCache(0));
    if (!probe.isGroup("")) {
      throw new MalformedStoreException(
          path, "", "not a Zarr v2 group: expected a .zgroup file at the top of the directory");
    }
    if (probe.readJson("", ".zgroup", true).path("zarr_format").asInt(-1) != 2) {
      throw new UnsupportedLayoutException(path, "", "expected zarr_format 2 in .zgroup");
    }
    String encoding = probe.encodingType("");
    if (!encoding.isEmpty() && !encoding.equals("anndata")) {
      throw new UnsupportedLayoutException(
          path, "", "expected encoding-type 'anndata' on the root group, found '" + encoding + "'");
    }
    return new ZarrStore(path);
  }

  @Override
  public Path path() {
    return path;
  }

  @Override
  public String format() {
    return "zarr";
  }

  @Override
  public long nObs() {
    return obs.length();
  }

  @Override
  public DataFrameReader obs() {
    return obs;
  }

  @Override
  public DataFrameReader var() {
    return var;
  }

  @Override
  public Optional<DataFrameReader> rawVar() {
    Optional<DataFrameReader> r = rawVar;
    if (r == null) {
      r = hasRaw() && tree.exists("raw/var")
          ? Optional.of(new ZarrDataFrame(tree, "raw/var"))
          : Optional.empty();
      rawVar = r;
    }
    return r;
  }

  @Override
  public List<String> layerNames() {
    return tree.isGroup("layers") ? tree.children("layers") : List.of();
  }

  @Override
  public List<String> obsmNames() {
    return tree.isGroup("obsm") ? tree.children("obsm") : List.of();
  }

  @Override
  public boolean hasRaw() {
    return tree.isGroup("raw");
  }

  @Override
  public Optional<MatrixReader> matrix(String elementPath) {
    if (!isMatrixPath(elementPath)) {
      throw new IllegalArgumentException(
          path + ": '" + elementPath + "' is not a matrix path (X, raw/X, layers/<key>, obsm/<key>)");
    }
    Optional<MatrixReader> m = matrices.get(elementPath);
    if (m == null) {
      m = openMatrix(elementPath);
      matrices.putIfAbsent(elementPath, m);
    }
    return m;
  }

  private static boolean isMatrixPath(String p) {
    if (p.equals("X") || p.equals("raw/X")) {
      return true;
    }
    for (String prefix : new String[] {"layers/", "obsm/"}) {
      if (p.startsWith(prefix)) {
        String key = p.substring(prefix.length());
        return !key.isEmpty() && !key.contains("/") && !key.equals(".") && !key.equals("..");
      }
    }
    return false;
  }

  private Optional<MatrixReader> openMatrix(String element) {
    if (tree.isArray(element)) {
      ZarrArray a = tree.array(element);
      if (!a.isNumeric()) {
        throw new UnsupportedLayoutException(
            path, element, "expected a numeric matrix, found dtype " + a.meta().dtype().text());
      }
      if (a.rank() != 2) {
        throw new UnsupportedLayoutException(
            path, element, "expected a 2-d matrix, found " + a.rank() + "-d array");
      }
      return Optional.of(new DenseZarrMatrix(a));
    }
    if (!tree.isGroup(element)) {
      return Optional.empty();
    }
    var attrs = tree.attrs(element);
    String encoding = attrs.path("encoding-type").asText(attrs.path("h5sparse_format").asText(""));
    return switch (encoding) {
      case "csr_matrix", "csr" -> Optional.of(new CsrZarrMatrix(SparseGroup.open(tree, element, MatrixLayout.CSR)));
      case "csc_matrix", "csc" -> Optional.of(new CscZarrMatrix(SparseGroup.open(tree, element, MatrixLayout.CSC)));
      default -> throw new UnsupportedLayoutException(
          path, element,
          "a group with encoding-type '" + encoding + "' is not a matrix (expected csr_matrix or csc_matrix)");
    };
  }

  @Override
  public void close() {
    // Chunk files are opened and closed per read; nothing stays open.
  }
}
