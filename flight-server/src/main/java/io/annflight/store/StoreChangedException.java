package io.annflight.store;

import java.nio.file.Path;

/**
 * The store a stream reads was replaced, rewritten in place or truncated under it: the stream
 * stops rather than send rows of two files. A new request reads the new store. Like damage, its
 * bytes are not what the store promised when it was opened.
 */
public class StoreChangedException extends MalformedStoreException {
  private static final long serialVersionUID = 1L;

  public StoreChangedException(Path file, String element, String problem) {
    super(file, element, problem);
  }
}
