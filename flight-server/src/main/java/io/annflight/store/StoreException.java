package io.annflight.store;

import java.nio.file.Path;

/**
 * A store could not be read. The message always names the file, the element path inside it
 * (empty for the store itself) and what was expected.
 */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String element;

  public StoreException(Path file, String element, String problem) {
    this(file, element, problem, null);
  }

  public StoreException(Path file, String element, String problem, Throwable cause) {
    super(format(file, element, problem), cause);
    this.file = file;
    this.element = element == null ? "" : element;
  }

  private static String format(Path file, String element, String problem) {
    String where = element == null || element.isEmpty() ? "" : " at '" + element + "'";
    return file + where + ": " + problem;
  }

  public Path file() {
    return file;
  }

  public String element() {
    return element;
  }
}
