package io.annflight.collection;

import io.annflight.schema.ElementType;
import io.annflight.store.ChunkCache;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.ParallelTasks;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A CSR matrix seen through a variable map that keeps few of its columns ({@code var_names}
 * onto a gene vocabulary, an inner join): its rows hold only the kept entries, their columns
 * already output positions. A CSR row must be read whole to find the few entries a projection
 * keeps, so projected groups of {@link #GROUP_ROWS} rows are kept in a byte-bounded cache shared
 * by the server's projections: after the first epoch a read costs what the kept entries cost.
 * The groups a read finds missing are projected in parallel (the server's helper threads and
 * the caller). Each row's entries come out in ascending output column: a vocabulary in its own
 * order (a model's gene list) maps a row's stored columns out of order, and such rows are sorted
 * once, when projected, instead of on every read.
 */
final class ProjectedMatrix implements MatrixReader {

  /** Rows projected and cached together. */
  static final int GROUP_ROWS = 256;
  /**
   * A group is projected whole (and kept) when a read needs at least this many of its rows, so
   * a block-shuffled epoch (blocks of 64 rows) fills the cache while scattered rows (an index
   * ticket of random rows) are read alone instead of costing a whole group each.
   */
  static final int FILL_ROWS = GROUP_ROWS / 8;

  private static final AtomicLong IDS = new AtomicLong();
  private final MatrixReader base;
  private final int[] map;
  private final int nColsOut;
  private final ChunkCache groups;
  private final ParallelTasks parallel;
  /** Names this projection in the cache; entries of a replaced store are never hit again. */
  private final long id = IDS.incrementAndGet();
  private final int width;
  /** Whether the map keeps column order: then only rows stored unsorted need sorting. */
  private final boolean mapKeepsOrder;
  private final int kept;

  /**
   * @param base a CSR matrix
   * @param map store column to output position, -1 where dropped (each position at most once)
   * @param nColsOut the output width
   */
  ProjectedMatrix(MatrixReader base, int[] map, int nColsOut, ChunkCache groups,
      ParallelTasks parallel) {
    if (base.layout() != MatrixLayout.CSR || map.length != base.nCols()) {
      throw new IllegalArgumentException("a projection needs a CSR matrix and a map of its "
          + base.nCols() + " columns");
    }
    this.base = base;
    this.map = map;
    this.nColsOut = nColsOut;
    this.groups = groups;
    this.parallel = parallel;
    this.width = base.elementType().byteWidth();
    this.mapKeepsOrder = MatrixColumnPlan.keepsOrder(map);
    this.kept = keptColumns(map);
  }

  /** Columns of {@code map} that are kept. */
  static int keptColumns(int[] map) {
    int kept = 0;
    for (int j : map) {
      kept += j >= 0 ? 1 : 0;
    }
    return kept;
  }

  /**
   * Whether a projection of {@code base} through {@code map} is worth caching: a CSR matrix of
   * which at most half the columns are kept, whose kept entries (estimated from its density)
   * fill at most half the cache.
   */
  static boolean pays(MatrixReader base, int[] map, ChunkCache groups) {
    if (base.layout() != MatrixLayout.CSR || map == null || groups.budgetBytes() <= 0
        || base.nCols() == 0) {
      return false;
    }
    int kept = keptColumns(map);
    if (2L * kept > base.nCols()) {
      return false;
    }
    double entries = (double) base.storedValues() * kept / base.nCols();
    double bytes = entries * (4 + base.elementType().byteWidth()) + 4.0 * base.nRows();
    return bytes <= groups.budgetBytes() / 2.0;
  }

  @Override
  public String elementPath() {
    return base.elementPath();
  }

  @Override
  public long nRows() {
    return base.nRows();
  }

  @Override
  public long nCols() {
    return nColsOut;
  }

  @Override
  public ElementType elementType() {
    return base.elementType();
  }

  /** The base's values in the kept columns, estimated from its density (batch sizing). */
  @Override
  public long storedValues() {
    return Math.round((double) base.storedValues() * kept / Math.max(1, base.nCols()));
  }

  @Override
  public MatrixLayout layout() {
    return MatrixLayout.CSR;
  }

  @Override
  public RowBlock readRows(long start, long stop) {
    if (start < 0 || stop < start || stop > nRows()) {
      throw new IndexOutOfBoundsException("'" + elementPath() + "': rows [" + start + ", "
          + stop + ") are not within [0, " + nRows() + ")");
    }
    int n = (int) (stop - start);
    Group[] sources = new Group[n];
    int[] local = new int[n];
    if (n == 0) {
      return gather(sources, local);
    }
    long g0 = start / GROUP_ROWS;
    long[] ids = new long[(int) ((stop - 1) / GROUP_ROWS - g0 + 1)];
    for (int k = 0; k < ids.length; k++) {
      ids[k] = g0 + k;
    }
    Group[] read = groups(ids);
    for (long r = start; r < stop; r++) {
      sources[(int) (r - start)] = read[(int) (r / GROUP_ROWS - g0)];
      local[(int) (r - start)] = (int) (r % GROUP_ROWS);
    }
    return gather(sources, local);
  }

  @Override
  public RowBlock readRows(long[] sortedRows) {
    int n = sortedRows.length;
    for (int i = 0; i < n; i++) {
      long r = sortedRows[i];
      if (r < 0 || r >= nRows() || (i > 0 && r < sortedRows[i - 1])) {
        throw new IndexOutOfBoundsException("'" + elementPath() + "': row " + r + " (position "
            + i + ") is out of order or not within [0, " + nRows() + ")");
      }
    }
    Group[] sources = new Group[n];
    int[] local = new int[n];
    // Per segment (the rows of one group): the whole group, cached or read now (in parallel)
    // when enough of its rows are asked for; null when its few rows are read alone.
    Group[] whole = new Group[n];
    int[] firstRow = new int[n + 1];
    long[] toRead = new long[n];
    int[] toReadSegment = new int[n];
    int nRead = 0;
    int segments = 0;
    for (int i = 0; i < n; ) {
      long g = sortedRows[i] / GROUP_ROWS;
      int j = i;
      int distinct = 0;
      while (j < n && sortedRows[j] / GROUP_ROWS == g) {
        distinct += j == i || sortedRows[j] != sortedRows[j - 1] ? 1 : 0;
        j++;
      }
      whole[segments] = cached(g);
      if (whole[segments] == null && distinct >= FILL_ROWS) {
        toRead[nRead] = g;
        toReadSegment[nRead++] = segments;
      }
      firstRow[segments++] = i;
      i = j;
    }
    firstRow[segments] = n;
    Group[] read = read(Arrays.copyOf(toRead, nRead));
    for (int k = 0; k < nRead; k++) {
      whole[toReadSegment[k]] = read[k];
    }
    for (int k = 0; k < segments; k++) {
      int from = firstRow[k];
      int to = firstRow[k + 1];
      Group group = whole[k] != null ? whole[k]
          : project((RowBlock.Sparse) base.readRows(Arrays.copyOfRange(sortedRows, from, to)));
      for (int i = from; i < to; i++) {
        sources[i] = group;
        local[i] = whole[k] != null ? (int) (sortedRows[i] % GROUP_ROWS) : i - from;
      }
    }
    return gather(sources, local);
  }

  /** Rows {@code local[k]} of {@code sources[k]}, in that order, as one block. */
  private RowBlock gather(Group[] sources, int[] local) {
    int n = sources.length;
    int[] offsets = new int[n + 1];
    for (int k = 0; k < n; k++) {
      offsets[k + 1] = Math.addExact(offsets[k], sources[k].length(local[k]));
    }
    int total = offsets[n];
    int[] columns = new int[total];
    byte[] values = new byte[total * width];
    int k = 0;
    while (k < n) {
      // A run of rows consecutive in one group is one copy.
      Group src = sources[k];
      int j = k + 1;
      while (j < n && sources[j] == src && local[j] == local[j - 1] + 1) {
        j++;
      }
      int from = src.offsets()[local[k]];
      int len = src.offsets()[local[j - 1] + 1] - from;
      System.arraycopy(src.columns(), from, columns, offsets[k], len);
      System.arraycopy(src.values(), from * width, values, offsets[k] * width, len * width);
      k = j;
    }
    ByteOrder order = n == 0 ? ByteOrder.LITTLE_ENDIAN : sources[0].order();
    return new RowBlock.Sparse(n, nColsOut, offsets, columns,
        new TypedBuffer(elementType(), ByteBuffer.wrap(values).order(order), total));
  }

  /** Groups {@code ids} projected: from the cache, the missing ones read in parallel. */
  private Group[] groups(long[] ids) {
    Group[] out = new Group[ids.length];
    long[] missing = new long[ids.length];
    int[] missingAt = new int[ids.length];
    int nMissing = 0;
    for (int k = 0; k < ids.length; k++) {
      out[k] = cached(ids[k]);
      if (out[k] == null) {
        missing[nMissing] = ids[k];
        missingAt[nMissing++] = k;
      }
    }
    Group[] read = read(Arrays.copyOf(missing, nMissing));
    for (int i = 0; i < nMissing; i++) {
      out[missingAt[i]] = read[i];
    }
    return out;
  }

  private Group cached(long g) {
    return (Group) groups.get(new GroupKey(id, g));
  }

  /** Groups {@code ids} read, projected and kept, in parallel. */
  private Group[] read(long[] ids) {
    return parallel.all(ids.length, Group[]::new, i -> group(ids[i]));
  }

  /** Group {@code g} read, projected and kept. */
  private Group group(long g) {
    GroupKey key = new GroupKey(id, g);
    long first = g * GROUP_ROWS;
    Group projected = project((RowBlock.Sparse) base.readRows(first,
        Math.min(nRows(), first + GROUP_ROWS)));
    groups.put(key, projected);
    return projected;
  }

  /** A block's kept entries, ascending, in the output's columns. */
  private Group project(RowBlock.Sparse block) {
    return new Group(SparseProjection.project(block, map, mapKeepsOrder, nColsOut));
  }

  private record GroupKey(long matrix, long group) {}

  /** Drops this projection's groups from the cache (its store closed). */
  void dropCached() {
    groups.removeIf(k -> k instanceof GroupKey g && g.matrix() == id);
  }

  /** Projected rows, their values as stored bits in a heap array. */
  private record Group(RowBlock.Sparse rows) implements ChunkCache.Weighted {
    int[] offsets() {
      return rows.rowOffsets();
    }

    int[] columns() {
      return rows.columns();
    }

    byte[] values() {
      return rows.values().bytes().array();
    }

    ByteOrder order() {
      return rows.values().bytes().order();
    }

    int length(int row) {
      return offsets()[row + 1] - offsets()[row];
    }

    @Override
    public long bytes() {
      return 4L * offsets().length + 4L * columns().length + values().length + 96;
    }
  }

  /** Hints go to the matrix projected: its rows are read whole to be projected. */
  @Override
  public boolean readsAhead() {
    return base.readsAhead();
  }

  @Override
  public void prefetch(long[] sortedRows) {
    base.prefetch(sortedRows);
  }
}
