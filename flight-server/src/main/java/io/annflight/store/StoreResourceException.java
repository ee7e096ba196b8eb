package io.annflight.store;

import java.nio.file.Path;

/**
 * Opening or reading a store ran out of memory: the heap ({@code -Xmx}) or the memory Arrow may
 * allocate. Says so, with the limit, so that nobody goes looking for damage in a healthy file.
 */
public class StoreResourceException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreResourceException(Path file, String element, String problem, Throwable cause) {
    super(file, element, problem, cause);
  }

  /** The heap ran out while {@code doing} (reading the element, opening the store). */
  public static StoreResourceException heap(Path file, String element, String doing,
      OutOfMemoryError e) {
    return new StoreResourceException(file, element, "ran out of heap memory while " + doing
        + " (" + e.getMessage() + "; " + heapLimit() + "): give the server more heap, or open fewer stores at once (--max-open-stores)", e);
  }

  /** Arrow's allocator refused a buffer while {@code doing}; {@code limit} its limit in bytes. */
  public static StoreResourceException arrow(Path file, String element, String doing,
      long limit, RuntimeException e) {
    return new StoreResourceException(file, element, "ran out of Arrow memory while " + doing
        + " (limit " + mib(limit) + "; " + e.getMessage() + ")", e);
  }

  /** The heap limit as messages name it: {@code heap limit -Xmx 2048 MiB}. */
  public static String heapLimit() {
    return "heap limit -Xmx " + mib(Runtime.getRuntime().maxMemory());
  }

  static String mib(long bytes) {
    return bytes == Long.MAX_VALUE ? "unlimited" : (bytes >> 20) + " MiB";
  }
}
