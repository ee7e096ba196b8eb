package io.annflight.sampling;

/**
 * An epoch as a virtual row order: position {@code p} of the epoch is collection row
 * {@link #row(long)}. Tickets name ranges of positions, so they stay small whatever the order,
 * and an epoch resumes at any position. Immutable and shared by the streams of the epoch.
 */
public interface EpochOrder {

  /** Positions in the epoch. */
  long length();

  /** The collection row at a position in {@code [0, length())}. */
  long row(long position);

  /**
   * The rows of {@code count} consecutive positions from {@code first} into {@code out} from
   * index {@code at}: what a batch asks for, mapped in one loop where the order allows.
   */
  default void rows(long first, int count, long[] out, int at) {
    for (int i = 0; i < count; i++) {
      out[at + i] = row(first + i);
    }
  }

  /** Whether positions are collection rows (the order of a request without sampler etc.). */
  default boolean isCollectionOrder() {
    return false;
  }

  /** The collection's own order over {@code n} rows: position p is row p. */
  static EpochOrder identity(long n) {
    return new EpochOrder() {
      @Override
      public long length() {
        return n;
      }

      @Override
      public long row(long position) {
        return position;
      }

      @Override
      public void rows(long first, int count, long[] out, int at) {
        for (int i = 0; i < count; i++) {
          out[at + i] = first + i;
        }
      }

      @Override
      public boolean isCollectionOrder() {
        return true;
      }
    };
  }

  /** The rows listed, in that order (a materialised order: weighted without replacement). */
  static EpochOrder of(int[] rows) {
    return new EpochOrder() {
      @Override
      public long length() {
        return rows.length;
      }

      @Override
      public long row(long position) {
        return rows[Math.toIntExact(position)];
      }
    };
  }
}
