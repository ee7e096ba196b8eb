package io.annflight.collection;

import io.annflight.store.StoreException;
import java.nio.file.Path;
import java.time.Duration;

/** A store took longer to open than the catalogue waits; the open goes on in the background. */
public final class StoreOpenTimeoutException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreOpenTimeoutException(Path store, Duration timeout) {
    super(store, "", "did not open within " + timeout.toSeconds() + " s (a slow or hung file"
        + " system?); the open goes on, try again later");
  }
}
