package io.annflight.flight.access;

/** The caller is known but not granted what it asked for (Flight {@code UNAUTHORIZED}). */
public class AccessDeniedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AccessDeniedException(String message) {
    super(message);
  }
}
