package io.annflight.store;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One opening of a store's bytes. Whatever is cached from a store is keyed by (or held by) its
 * generation, never by its path: a store opened again after its file changed is another
 * generation and never sees the old one's cache entries, and a generation's entries are dropped
 * when it closes. Its {@link Source} tells whether the bytes it was opened on are still those:
 * a local file by its {@link FileStamp}; another byte source (an object store) by its own
 * version of the object.
 */
public final class StoreGeneration {
  private static final AtomicLong IDS = new AtomicLong();

  /** Where a generation's bytes come from, as far as changes to them are concerned. */
  @FunctionalInterface
  public interface Source {
    /**
     * What happened to the bytes this generation was opened on ("was rewritten in place while
     * it was read"), or null while they are unchanged.
     */
    String change();
  }

  private final long id = IDS.incrementAndGet();
  private final Path store;
  private final Source source;

  public StoreGeneration(Path store, Source source) {
    this.store = store;
    this.source = source;
  }

  /**
   * The generation of a local file or directory opened now: its stamp is taken before any of
   * its bytes are read, so a change during the opening counts as a change.
   */
  public static StoreGeneration ofLocal(Path container) {
    FileStamp opened = FileStamp.of(container);
    return new StoreGeneration(container, () -> opened.changeSince(container));
  }

  /**
   * The generation of a store opened now, local ({@link #ofLocal}) or in a bucket. Objects are
   * read at the versions seen when the store was opened (each GET asks for that ETag), so the
   * bytes a generation reads cannot change under it: a replaced object fails the read that
   * needs it, and there is nothing to ask the bucket per batch.
   */
  public static StoreGeneration of(Path container) {
    if (container instanceof io.annflight.store.source.ObjectPath) {
      return new StoreGeneration(container, () -> null);
    }
    return ofLocal(container);
  }

  /** Unique among the generations of this JVM. */
  public long id() {
    return id;
  }

  public Path store() {
    return store;
  }

  /**
   * Throws when the bytes this generation reads have changed since it was opened (rewritten in
   * place, truncated): whatever was read from them meanwhile may mix old and new values.
   *
   * @throws StoreChangedException naming the store and what happened
   */
  public void checkUnchanged() {
    String change = source.change();
    if (change != null) {
      throw new StoreChangedException(store, "", change + "; its rows read since may mix the"
          + " old and the new file, so this stream stops; request again to read the new one");
    }
  }

  @Override
  public String toString() {
    return store + " (opening " + id + ")";
  }
}
