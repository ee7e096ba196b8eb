package io.annflight.store.h5ad;

import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerNode;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An HDF5 file as a {@link Container}, read with jhdf. Nodes are wrapped once and kept, so an
 * array's readers (and a compound dataset's decoded records) are built once per file.
 */
public final class H5Container implements Container {

  private final H5File file;
  private final ConcurrentHashMap<String, Optional<ContainerNode>> nodes =
      new ConcurrentHashMap<>();

  private H5Container(H5File file) {
    this.file = file;
  }

  /**
   * Opens an HDF5 file.
   *
   * @throws io.annflight.store.StoreNotFoundException when there is no file
   * @throws io.annflight.store.MalformedStoreException when it is not a readable HDF5 file
   */
  public static H5Container open(Path path) {
    return open(path, io.annflight.store.StoreResources.shared());
  }

  /** Opens the file, caching decompressed chunks in the given resources. */
  public static H5Container open(Path path, io.annflight.store.StoreResources resources) {
    return open(path, resources, io.annflight.store.StoreGeneration.of(path));
  }

  /** Opens the file as {@code generation}: its cached chunks are that generation's. */
  public static H5Container open(Path path, io.annflight.store.StoreResources resources,
      io.annflight.store.StoreGeneration generation) {
    return new H5Container(H5File.open(path, resources.hdf5Chunks(), generation));
  }

  @Override
  public Path path() {
    return file.path();
  }

  @Override
  public io.annflight.store.StoreGeneration generation() {
    return file.generation();
  }

  @Override
  public String format() {
    return "h5ad";
  }

  @Override
  public Optional<ContainerNode> find(String path) {
    Optional<ContainerNode> n = nodes.get(path);
    if (n == null) {
      n = file.find(path).map(node -> wrap(path, node));
      nodes.putIfAbsent(path, n);
    }
    return n;
  }

  private ContainerNode wrap(String path, Node node) {
    if (node instanceof Group g) {
      return new H5Group(file, path, g);
    }
    if (!(node instanceof Dataset ds)) {
      // A committed (named) datatype, or what a damaged header makes of a node.
      throw new io.annflight.store.UnsupportedLayoutException(file.path(), path, "is an HDF5 "
          + node.getClass().getSimpleName() + ", expected a group or a dataset");
    }
    return new H5Dataset(file, path, ds);
  }

  @Override
  public void close() {
    file.close();
  }
}
