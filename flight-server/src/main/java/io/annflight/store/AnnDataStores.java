package io.annflight.store;

import io.annflight.store.h5ad.H5adStore;
import io.annflight.store.zarr.ZarrStore;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a store by what is on disk: a directory is a Zarr v2 group, a file is HDF5. */
public final class AnnDataStores {
  private AnnDataStores() {}

  /**
   * @throws StoreNotFoundException when nothing is at the path
   * @throws MalformedStoreException when it is neither an HDF5 file nor a Zarr group
   */
  public static AnnDataStore open(Path path) {
    if (Files.isDirectory(path)) {
      return ZarrStore.open(path);
    }
    if (Files.isRegularFile(path)) {
      return H5adStore.open(path);
    }
    if (Files.exists(path)) {
      // A FIFO would block the opening thread until somebody writes to it: never open one.
      throw new StoreAccessException(path, "", "is not a regular file or directory (a FIFO,"
          + " device or socket); it is not opened");
    }
    throw new StoreNotFoundException(path, "", "no such file or directory (expected an .h5ad "
        + "file or a .zarr directory)");
  }
}
