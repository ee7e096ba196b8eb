package io.annflight.store;

import java.nio.file.Path;

/** The bytes on disk are not what the format promises: truncated, corrupted, inconsistent. */
public class MalformedStoreException extends StoreException {
  private static final long serialVersionUID = 1L;

  public MalformedStoreException(Path file, String element, String problem) {
    super(file, element, problem);
  }

  public MalformedStoreException(Path file, String element, String problem, Throwable cause) {
    super(file, element, problem, cause);
  }
}
