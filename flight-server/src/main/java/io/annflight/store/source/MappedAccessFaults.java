package io.annflight.store.source;

/**
 * Faults of accesses to a memory-mapped file whose pages are gone (the file was truncated
 * under the mapping). HotSpot raises such a fault in compiled code as an {@link InternalError}
 * at the thread's next check, which may fall inside a later call that wraps it: reflection in
 * an {@code InvocationTargetException}, Arrow's {@code MemoryUtil} in an {@link Error}, Flight
 * in a {@link RuntimeException}. Look for it among the causes, not at the top.
 */
public final class MappedAccessFaults {
  private MappedAccessFaults() {}

  /** The fault among {@code t}'s causes ({@code t} included), or null when there is none. */
  public static InternalError in(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof InternalError fault) {
        return fault;
      }
    }
    return null;
  }
}
