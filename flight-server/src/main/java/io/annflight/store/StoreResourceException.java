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

  /**
   * Memory ran out while {@code doing} (reading the element, opening the store): the heap, or
   * the direct memory Netty and Arrow allocate from ({@code OutOfDirectMemoryError} is an
   * {@link OutOfMemoryError} too, and its message gives the limit).
   */
  public static StoreResourceException outOfMemory(Path file, String element, String doing,
      OutOfMemoryError e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("direct memory") || e.getClass().getSimpleName().contains("Direct")) {
      return new StoreResourceException(file, element, "ran out of direct memory while " + doing
          + " (" + m + "; the limit is -XX:MaxDirectMemorySize, by default the heap limit)", e);
    }
    return new StoreResourceException(file, element, "ran out of heap memory while " + doing
        + " (" + m + "; " + heapLimit() + "): give the server more heap, or open fewer stores"
        + " at once (--max-open-stores)", e);
  }

  /**
   * Arrow's allocator refused a buffer while {@code doing}; {@code limit} is the allocators'
   * limit in bytes (none set: the JVM's direct memory is the limit).
   */
  public static StoreResourceException arrow(Path file, String element, String doing,
      long limit, RuntimeException e) {
    String limitText = limit == Long.MAX_VALUE
        ? "Arrow's limit is the JVM's direct memory, -XX:MaxDirectMemorySize (by default -Xmx)"
        : "Arrow memory limit " + mib(limit);
    return new StoreResourceException(file, element, "ran out of Arrow memory while " + doing
        + " (" + limitText + "; " + e.getMessage() + ")", e);
  }

  /** The heap limit as messages name it: {@code heap limit -Xmx 2048 MiB}. */
  public static String heapLimit() {
    return "heap limit -Xmx " + mib(Runtime.getRuntime().maxMemory());
  }

  static String mib(long bytes) {
    return bytes == Long.MAX_VALUE ? "unlimited" : (bytes >> 20) + " MiB";
  }
}
