package io.annflight.store;

import java.nio.file.Path;

/**
 * A request named an element that exists but is no matrix: an obsm data frame (anndata 0.7
 * wrote them), an array of strings. The request is at fault, not the store.
 */
public class NotAMatrixException extends StoreException {
  private static final long serialVersionUID = 1L;

  public NotAMatrixException(Path file, String element, String problem) {
    super(file, element, problem);
  }
}
