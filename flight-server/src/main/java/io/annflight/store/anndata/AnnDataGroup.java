package io.annflight.store.anndata;

import io.annflight.store.AnnDataStore;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixReader;
import io.annflight.store.NotAMatrixException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.container.ContainerNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One AnnData object in a container: the container's root, or a group inside it (a MuData
 * modality, {@code mod/<name>}). The AnnData encodings are read here once for every container:
 * data frames, matrices (dense, CSR, CSC), elements encoded as {@code null} (anndata 0.12
 * writes an absent X or raw so), and the layout of anndata up to 0.6 (obs, var and obsm as
 * compound datasets, {@code raw.X}/{@code raw.var} at the root). Thread-safe; matrix readers are
 * built once per element and kept.
 */
public final class AnnDataGroup implements AnnDataStore {

  private final Container container;
  private final Path path;
  private final String root;
  private final boolean legacy;
  private final DataFrameReader obs;
  private final DataFrameReader var;
  private final Map<String, Optional<MatrixReader>> matrices = new ConcurrentHashMap<>();
  private volatile Optional<DataFrameReader> rawVar;

  private AnnDataGroup(Container container, Path path, String root) {
    this.container = container;
    this.path = path;
    this.root = root;
    ContainerNode top = root.isEmpty() ? container.find("").orElseThrow() : container.find(root)
        .orElseThrow(() -> new StoreNotFoundException(container.path(), root,
            "no such group (a modality is named mod/<name>" + modalityHint() + ")"));
    if (!(top instanceof ContainerGroup group)) {
      throw new MalformedStoreException(container.path(), root, "is an array, expected an "
          + "AnnData group");
    }
    String enc = group.attributes().encodingType().orElse("anndata");
    if (!enc.equals("anndata") && !enc.equals("MuData")) {
      throw new UnsupportedLayoutException(container.path(), root,
          "has encoding-type '" + enc + "', expected anndata");
    }
    ContainerNode obsNode = require("obs", "the obs data frame");
    this.legacy = obsNode instanceof ContainerArray;
    this.obs = frame("obs", obsNode);
    this.var = frame("var", require("var", "the var data frame"));
  }

  /**
   * Reads the AnnData object at {@code root} of an open container; closes the container when it
   * cannot.
   *
   * @param path the store as clients name it (a modality's path goes on past the file)
   */
  public static AnnDataGroup open(Container container, Path path, String root) {
    try {
      return new AnnDataGroup(container, path, root);
    } catch (StoreException e) {
      container.close();
      throw e;
    } catch (RuntimeException e) {
      container.close();
      throw new MalformedStoreException(path, root, "cannot read the AnnData layout: " + e, e);
    }
  }

  /** The file's modalities (under the container's root, not the missing group's). */
  private String modalityHint() {
    Optional<ContainerNode> mod = container.find("mod");
    List<String> mods = mod.isPresent() && mod.get() instanceof ContainerGroup g ? g.children()
        : List.of();
    return mods.isEmpty() ? "" : "; this file has " + mods;
  }

  private String inRoot(String element) {
    return Columns.join(root, element);
  }

  private Optional<ContainerNode> node(String element) {
    return container.find(inRoot(element));
  }

  private ContainerNode require(String element, String what) {
    return node(element).orElseThrow(() -> new StoreNotFoundException(container.path(),
        inRoot(element), "missing (expected " + what + ")"));
  }

  private DataFrameReader frame(String element, ContainerNode node) {
    if (node instanceof ContainerGroup g) {
      return DataFrameGroup.open(container, inRoot(element), g);
    }
    ContainerArray a = (ContainerArray) node;
    if (a.kind() != ContainerArray.Kind.COMPOUND) {
      throw new UnsupportedLayoutException(container.path(), inRoot(element),
          "is a " + a.kind() + " array, expected a data frame (a group, or a compound dataset"
              + " as anndata <= 0.6 wrote)");
    }
    return CompoundFrame.open(container, inRoot(element), a, inRoot("uns"));
  }

  @Override
  public Path path() {
    return path;
  }

  @Override
  public io.annflight.store.StoreGeneration generation() {
    return container.generation();
  }

  @Override
  public String format() {
    return container.format();
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
      Optional<ContainerNode> n = hasRaw() ? node(legacy ? "raw.var" : "raw/var")
          : Optional.empty();
      r = n.map(v -> frame(legacy ? "raw.var" : "raw/var", v));
      rawVar = r;
    }
    return r;
  }

  @Override
  public List<String> layerNames() {
    return children("layers");
  }

  @Override
  public List<String> obsmNames() {
    Optional<ContainerNode> obsm = node("obsm");
    if (obsm.isPresent() && obsm.get() instanceof ContainerArray records) {
      return records.fieldNames().stream().sorted().toList();
    }
    return children("obsm");
  }

  @Override
  public List<String> modalities() {
    return children("mod");
  }

  private List<String> children(String element) {
    Optional<ContainerNode> n = node(element);
    List<String> names = n.isPresent() && n.get() instanceof ContainerGroup g ? g.children()
        : List.of();
    for (String name : names) {
      // Only a damaged file names a member so (HDF5 and directories cannot): a key like that
      // could not be asked for.
      if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
        throw new MalformedStoreException(container.path(), inRoot(element), "has a member"
            + " named '" + name + "', which is no valid key (damaged link name?)");
      }
    }
    return names;
  }

  @Override
  public boolean hasRaw() {
    if (legacy) {
      return node("raw.X").isPresent();
    }
    return node("raw").filter(n -> n instanceof ContainerGroup).isPresent();
  }

  @Override
  public boolean hasX() {
    return node("X").filter(n -> !isNull(n)).isPresent();
  }

  private static boolean isNull(ContainerNode n) {
    return n.attributes().encodingType().orElse("").equals("null");
  }

  @Override
  public String elementKind(String elementPath) {
    Optional<ContainerNode> n = locate(elementPath);
    if (n.isEmpty()) {
      return "absent";
    }
    ContainerNode node = n.get();
    String enc = node.attributes().encodingType()
        .or(() -> node.attributes().string("h5sparse_format").map(f -> f + "_matrix"))
        .orElse("");
    if (node instanceof ContainerArray a) {
      return enc.equals("null") ? "null" : a.kind() == ContainerArray.Kind.NUMERIC ? "array"
          : a.kind().name().toLowerCase(java.util.Locale.ROOT);
    }
    return enc.isEmpty() ? "group" : enc;
  }

  /** The node behind an element path, mapping the 0.6 layout's names. */
  private Optional<ContainerNode> locate(String elementPath) {
    if (legacy && elementPath.equals("raw/X")) {
      return node("raw.X");
    }
    if (legacy && elementPath.startsWith("obsm/")) {
      Optional<ContainerNode> obsm = node("obsm");
      String key = elementPath.substring("obsm/".length());
      if (obsm.isPresent() && obsm.get() instanceof ContainerArray records) {
        return records.fieldNames().contains(key) ? Optional.of(records.field(key))
            : Optional.empty();
      }
    }
    return node(elementPath);
  }

  @Override
  public Optional<MatrixReader> matrix(String elementPath) {
    if (!isMatrixPath(elementPath)) {
      throw new IllegalArgumentException(path + ": '" + elementPath
          + "' is not a matrix path (X, raw/X, layers/<key>, obsm/<key>)");
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

  private Optional<MatrixReader> openMatrix(String elementPath) {
    Optional<ContainerNode> found = locate(elementPath);
    if (found.isEmpty() || isNull(found.get())) {
      return Optional.empty();
    }
    ContainerNode node = found.get();
    String where = inRoot(elementPath);
    Path file = container.path();
    if (node instanceof ContainerArray a) {
      if (a.kind() != ContainerArray.Kind.NUMERIC) {
        throw new NotAMatrixException(file, where, "is a " + a.kind().name()
            .toLowerCase(java.util.Locale.ROOT) + " array, not a numeric matrix");
      }
      int rank = a.shape().length;
      boolean obsm = elementPath.startsWith("obsm/");
      if (rank != 2 && !(obsm && rank == 1)) {
        throw new UnsupportedLayoutException(file, where, "is a " + rank
            + "-D array, expected a 2-D matrix");
      }
      if (a.rowWidth() > Integer.MAX_VALUE / 8) {
        throw new UnsupportedLayoutException(file, where, "has " + a.rowWidth()
            + " columns, more than annflight reads");
      }
      return Optional.of(new DenseMatrix(file, where, a));
    }
    ContainerGroup group = (ContainerGroup) node;
    String enc = group.attributes().encodingType()
        .or(() -> group.attributes().string("h5sparse_format").map(f -> f + "_matrix"))
        .orElse("<none>");
    return switch (enc) {
      case "csr_matrix" -> Optional.of(new CsrMatrix(
          new SparseArrays(container, where, group, true)));
      case "csc_matrix" -> Optional.of(new CscMatrix(
          new SparseArrays(container, where, group, false)));
      case "dataframe" -> throw new NotAMatrixException(file, where,
          "is a data frame (anndata 0.7 wrote obsm data frames), not an array; request an "
              + "array element instead");
      default -> throw new UnsupportedLayoutException(file, where,
          "is a group with encoding-type '" + enc + "', expected a dense array, csr_matrix or "
              + "csc_matrix");
    };
  }

  @Override
  public void close() {
    container.close();
  }

  @Override
  public String toString() {
    return "AnnDataGroup[" + path + "]";
  }
}
