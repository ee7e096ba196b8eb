package io.annflight.sampling;

/**
 * Walker's alias method as Vose builds it (1991): a column drawn uniformly, kept with its
 * probability or replaced by its alias, gives column g with probability {@code weights[g] /
 * sum}. Built exactly as docs/reference/epochs.md spells it (stacks, in index order), so
 * another implementation with IEEE doubles gets the same table. Immutable.
 */
final class AliasTable {
  private final double[] keep;
  private final int[] alias;

  /** @param weights non-negative, with a positive sum */
  AliasTable(double[] weights) {
    int g = weights.length;
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("alias table over weights summing to " + total);
    }
    keep = new double[g];
    alias = new int[g];
    double[] q = new double[g];
    int[] small = new int[g];
    int[] large = new int[g];
    int ns = 0;
    int nl = 0;
    for (int i = 0; i < g; i++) {
      q[i] = weights[i] * g / total;
      if (q[i] < 1) {
        small[ns++] = i;
      } else {
        large[nl++] = i;
      }
    }
    while (ns > 0 && nl > 0) {
      int l = small[--ns];
      int h = large[--nl];
      keep[l] = q[l];
      alias[l] = h;
      q[h] = (q[h] + q[l]) - 1;
      if (q[h] < 1) {
        small[ns++] = h;
      } else {
        large[nl++] = h;
      }
    }
    while (nl > 0) {
      int h = large[--nl];
      keep[h] = 1;
      alias[h] = h;
    }
    while (ns > 0) { // left over by rounding only
      int l = small[--ns];
      keep[l] = 1;
      alias[l] = l;
    }
  }

  int size() {
    return keep.length;
  }

  /** The column drawn by two uniforms in [0, 1): column {@code floor(u * size)}, kept when v
   * is below its probability. */
  int draw(double u, double v) {
    int c = (int) Math.min(keep.length - 1, (long) (u * keep.length));
    return v < keep[c] ? c : alias[c];
  }
}
