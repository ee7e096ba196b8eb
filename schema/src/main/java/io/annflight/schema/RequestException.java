package io.annflight.schema;

/** A request, ticket or action body is invalid; the message says which key and why. */
public class RequestException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public RequestException(String message) {
    super(message);
  }

  public RequestException(String message, Throwable cause) {
    super(message, cause);
  }
}
