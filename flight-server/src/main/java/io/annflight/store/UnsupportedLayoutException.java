package io.annflight.store;

import java.nio.file.Path;

/** The element is valid AnnData but uses an encoding or layout annflight does not read. */
public class UnsupportedLayoutException extends StoreException {
  private static final long serialVersionUID = 1L;

  public UnsupportedLayoutException(Path file, String element, String problem) {
    super(file, element, problem);
  }
}
