package io.annflight.collection;

import io.annflight.store.StoreNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a store path is on disk right now: its file (inode), size and modification time. A
 * store replaced by rename, or rewritten in place, has another identity, so the catalogue
 * opens it anew for new requests.
 */
record FileIdentity(Object fileKey, long size, long modifiedNanos) {

  static FileIdentity of(Path storePath) {
    // A modality inside a file (data.h5mu/mod/rna) is as new as its file.
    Path path = io.annflight.store.StoreLocation.of(storePath).container();
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return new FileIdentity(a.fileKey(), a.isDirectory() ? 0 : a.size(),
          a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS));
    } catch (NoSuchFileException e) {
      throw new StoreNotFoundException(path, "", "no such file or directory");
    } catch (IOException e) {
      throw new StoreNotFoundException(path, "", "cannot be accessed: " + e.getMessage());
    }
  }
}
