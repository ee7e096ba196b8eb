package io.annflight.store;

import io.annflight.store.anndata.AnnDataGroup;
import io.annflight.store.container.Container;
import io.annflight.store.h5ad.H5Container;
import io.annflight.store.zarr.ZarrContainer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a store by what is on disk: a directory is a Zarr (v2 or v3) group, a file is HDF5;
 * a path that goes on past a file names a group inside it (a MuData modality).
 */
public final class AnnDataStores {
  private AnnDataStores() {}

  /**
   * @throws StoreNotFoundException when nothing is at the path
   * @throws MalformedStoreException when it is neither an HDF5 file nor a Zarr group
   */
  public static AnnDataStore open(Path path) {
    return open(path, StoreResources.shared());
  }

  /** Opens a store whose readers share a server's caches and decoder threads. */
  public static AnnDataStore open(Path path, StoreResources resources) {
    StoreLocation location = StoreLocation.of(path);
    try {
      return AnnDataGroup.open(container(location.container(), resources), path,
          location.group());
    } catch (OutOfMemoryError e) {
      throw StoreResourceException.outOfMemory(path, "", "opening the store", e);
    }
  }

  private static Container container(Path path, StoreResources resources) {
    if (Files.isDirectory(path)) {
      return ZarrContainer.open(path, resources, StoreGeneration.of(path));
    }
    if (Files.isRegularFile(path)) {
      return H5Container.open(path, resources, StoreGeneration.of(path));
    }
    if (Files.exists(path)) {
      // A FIFO would block the opening thread until somebody writes to it: never open one.
      throw new StoreAccessException(path, "", "is not a regular file or directory (a FIFO,"
          + " device or socket); it is not opened");
    }
    throw new StoreNotFoundException(path, "", "no such file or directory (expected an .h5ad "
        + "file, a .zarr directory or a MuData modality such as data.h5mu/mod/rna)");
  }
}
