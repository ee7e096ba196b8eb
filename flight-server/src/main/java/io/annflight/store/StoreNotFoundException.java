package io.annflight.store;

import java.nio.file.Path;

/** The file or directory does not exist, or a required element is missing from the store. */
public class StoreNotFoundException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreNotFoundException(Path file, String element, String problem) {
    super(file, element, problem);
  }
}
