package io.annflight.store.container;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A hierarchical array store as the AnnData encoding layer sees it: groups, arrays and their
 * attributes, nothing about AnnData. HDF5 files and Zarr (v2 and v3) directories are containers;
 * adding another (an object store) means implementing these interfaces and nothing above them.
 * Implementations are thread-safe.
 */
public interface Container extends AutoCloseable {

  /** The file or directory on disk, as messages name it. */
  Path path();

  /** This opening of the container: what its caches are keyed by, and whether it changed. */
  io.annflight.store.StoreGeneration generation();

  /** {@code "h5ad"} or {@code "zarr"}: the container format as clients see it. */
  String format();

  /**
   * The node at a {@code /}-separated path ({@code ""} is the root group); empty when there is
   * none.
   *
   * @throws io.annflight.store.StoreException when the container cannot be read there
   */
  Optional<ContainerNode> find(String path);

  @Override
  void close();
}
