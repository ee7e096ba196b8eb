package io.annflight.flight;

import io.annflight.store.AnnDataStore;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.h5ad.H5adStore;
import io.annflight.store.zarr.ZarrStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/** Opens a store by what is on disk: a directory is Zarr, a file is h5ad. */
public final class StoreOpener implements Function<Path, AnnDataStore> {
  @Override
  public AnnDataStore apply(Path path) {
    if (Files.isDirectory(path)) {
      return ZarrStore.open(path);
    }
    if (Files.isRegularFile(path)) {
      return H5adStore.open(path);
    }
    throw new StoreNotFoundException(path, "", "no such file or directory");
  }
}
