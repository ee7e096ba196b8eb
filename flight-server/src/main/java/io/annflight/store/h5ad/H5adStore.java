package io.annflight.store.h5ad;

import io.annflight.store.AnnDataStore;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixReader;
import io.annflight.store.StoreException;
import io.annflight.store.UnsupportedLayoutException;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@code .h5ad} file read with jhdf. One {@link io.jhdf.HdfFile} is shared by all threads;
 * matrix readers are built once per element and kept.
 */
public final class H5adStore implements AnnDataStore {

  private final H5File file;
  private final H5DataFrame obs;
  private final H5DataFrame var;
  private final Optional<DataFrameReader> rawVar;
  private final Map<String, Optional<MatrixReader>> matrices = new ConcurrentHashMap<>();

  private H5adStore(H5File file) {
    this.file = file;
    this.obs = new H5DataFrame(file, "obs");
    this.var = new H5DataFrame(file, "var");
    this.rawVar = hasRaw() ? Optional.of(new H5DataFrame(file, "raw/var")) : Optional.empty();
  }

  /**
   * Opens an {@code .h5ad} file.
   *
   * @throws io.annflight.store.StoreNotFoundException when the file or obs/var is missing
   * @throws io.annflight.store.MalformedStoreException when it is not a readable HDF5 file
   */
  public static H5adStore open(Path path) {
    H5File file = H5File.open(path);
    try {
      return new H5adStore(file);
    } catch (StoreException e) {
      file.close();
      throw e;
    } catch (RuntimeException | InternalError e) {
      file.close();
      throw new MalformedStoreException(path, "", "cannot read the AnnData layout: " + e, e);
    }
  }

  @Override
  public Path path() {
    return file.path();
  }

  @Override
  public String format() {
    return "h5ad";
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
    return rawVar;
  }

  @Override
  public List<String> layerNames() {
    return memberNames("layers");
  }

  @Override
  public List<String> obsmNames() {
    return memberNames("obsm");
  }

  private List<String> memberNames(String groupPath) {
    Optional<Node> node = file.find(groupPath);
    if (node.isEmpty() || !(node.get() instanceof Group group)) {
      return List.of();
    }
    return List.copyOf(new TreeSet<>(
        file.guard(groupPath, "the group's members", () -> group.getChildren().keySet())));
  }

  @Override
  public boolean hasRaw() {
    return file.find("raw").filter(Node::isGroup).isPresent();
  }

  @Override
  public Optional<MatrixReader> matrix(String elementPath) {
    return matrices.computeIfAbsent(elementPath, this::openMatrix);
  }

  private Optional<MatrixReader> openMatrix(String elementPath) {
    Optional<Node> found = file.find(elementPath);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Node node = found.get();
    boolean obsm = elementPath.startsWith("obsm/");
    if (node instanceof Dataset ds) {
      H5Array array = H5Array.of(file, elementPath, ds);
      int rank = file.guard(elementPath, "the dataset shape", () -> ds.getDimensions().length);
      if (rank != 2 && !obsm) {
        throw new UnsupportedLayoutException(file.path(), elementPath,
            "is a " + rank + "-D array, expected a 2-D matrix");
      }
      return Optional.of(new DenseMatrix(array));
    }
    Group group = (Group) node;
    String enc = file.encodingType(group, elementPath)
        .or(() -> file.stringAttribute(group, elementPath, "h5sparse_format").map(f -> f + "_matrix"))
        .orElse("<none>");
    return switch (enc) {
      case "csr_matrix" -> Optional.of(new CsrMatrix(new SparseGroup(file, elementPath, group, true)));
      case "csc_matrix" -> Optional.of(new CscMatrix(new SparseGroup(file, elementPath, group, false)));
      default -> throw new UnsupportedLayoutException(file.path(), elementPath,
          "is a group with encoding-type '" + enc + "', expected a dense array, csr_matrix or "
              + "csc_matrix");
    };
  }

  @Override
  public void close() {
    file.close();
  }

  @Override
  public String toString() {
    return "H5adStore[" + file.path() + "]";
  }
}
