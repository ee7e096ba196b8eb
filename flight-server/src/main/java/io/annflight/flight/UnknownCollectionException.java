package io.annflight.flight;

import java.util.Collection;

/** A request names a collection the server has not configured. */
public final class UnknownCollectionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnknownCollectionException(String name, Collection<String> known) {
    super("unknown collection \"" + name + "\"; this server has "
        + (known.isEmpty() ? "no configured collections" : "collections " + known));
  }
}
