package io.annflight.store;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a store path leads on disk. A path may continue past a file into a group inside it,
 * as MuData modalities are named ({@code pbmc.h5mu/mod/rna}): the file is the container and the
 * rest the AnnData group within. A Zarr modality ({@code pbmc.zarr/mod/atac}) is a directory
 * on disk and is opened as a store of its own.
 *
 * @param container the file or directory that exists on disk
 * @param group the group inside it, {@code /}-separated; empty for the root
 */
public record StoreLocation(Path container, String group) {

  public static StoreLocation of(Path path) {
    if (Files.exists(path)) {
      return new StoreLocation(path, "");
    }
    for (Path p = path.getParent(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p)) {
        StringBuilder inner = new StringBuilder();
        for (Path part : p.relativize(path)) {
          if (inner.length() > 0) {
            inner.append('/');
          }
          inner.append(part);
        }
        return new StoreLocation(p, inner.toString());
      }
      if (Files.exists(p)) {
        break;
      }
    }
    return new StoreLocation(path, "");
  }
}
