package io.annflight.store;

import java.nio.file.Path;

/**
 * A file of a store that the server refuses to open: a symbolic link leading outside the store,
 * or something that is not a regular file (a FIFO, device or socket, which could block the
 * reading thread forever or read endlessly).
 */
public class StoreAccessException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreAccessException(Path file, String element, String problem) {
    super(file, element, problem);
  }
}
