package io.annflight.collection;

import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A sparse block seen through a column map: each stored column mapped, the entry kept where it
 * maps to a column (-1 drops it). Rows come out in ascending output column whatever the map's
 * order or the block's: rows are sorted only when the map reorders columns or a row was stored
 * unsorted. Values keep their stored type and bytes. The projection of {@code var_names} and of
 * variable joins, in one place: the cached projection ({@link ProjectedMatrix}) and the batch
 * filler's use it alike.
 */
public final class SparseProjection {
  /**
   * Per thread, the pass's array of a block's length: a fresh one would be megabytes per block,
   * zeroed and (past half a G1 region) a humongous allocation.
   */
  private static final ThreadLocal<long[][]> SCRATCH = ThreadLocal.withInitial(
      () -> new long[][] {new long[0]});
  /**
   * Longest scratch a thread keeps (16 MiB): larger blocks (a batch of very wide rows) get an
   * array of their own, so pooled stream threads do not hold hundreds of megabytes each.
   */
  static final int MAX_KEPT_SCRATCH = 2 << 20;

  private SparseProjection() {}

  /**
   * The block's kept entries.
   *
   * @param map stored column to output column, -1 where dropped (each output at most once)
   * @param mapKeepsOrder whether {@code map} keeps column order ({@link
   *     MatrixColumnPlan#keepsOrder}); then only rows stored unsorted are sorted
   * @param nColsOut the output width
   */
  public static RowBlock.Sparse project(RowBlock.Sparse block, int[] map, boolean mapKeepsOrder,
      int nColsOut) {
    int[] cols = block.columns();
    int[] off = block.rowOffsets();
    int rows = block.nRows();
    int nnz = block.nnz();
    long[] entries;
    if (nnz + 1 > MAX_KEPT_SCRATCH) {
      entries = new long[nnz + 1];
    } else {
      long[][] scratch = SCRATCH.get();
      if (scratch[0].length < nnz + 1) {
        int grown = Math.max(nnz + 1, 2 * scratch[0].length);
        scratch[0] = new long[Math.min(MAX_KEPT_SCRATCH, grown)];
      }
      entries = scratch[0];
    }
    // One pass without a branch per entry (a projection keeps few of many, which a branch would
    // mispredict): each entry is written, as output column << 32 | stored position, at the next
    // free place, which only advances when it is kept. A row's entries sort as they are.
    int[] outOffsets = new int[rows + 1];
    int n = 0;
    boolean storedAscending = true;
    for (int r = 0; r < rows; r++) {
      int previous = -1;
      for (int e = off[r]; e < off[r + 1]; e++) {
        int c = cols[e];
        storedAscending &= c > previous;
        previous = c;
        int j = map[c];
        entries[n] = ((long) j << 32) | e;
        n += (~j) >>> 31; // 1 where j >= 0 (kept), 0 where j < 0 (dropped)
      }
      outOffsets[r + 1] = n;
    }
    if (!(mapKeepsOrder && storedAscending)) {
      for (int r = 0; r < rows; r++) {
        Arrays.sort(entries, outOffsets[r], outOffsets[r + 1]);
      }
    }
    int[] outCols = new int[n];
    int[] kept = new int[n];
    for (int i = 0; i < n; i++) {
      outCols[i] = (int) (entries[i] >>> 32);
      kept[i] = (int) entries[i];
    }
    TypedBuffer values = block.values();
    return new RowBlock.Sparse(rows, nColsOut, outOffsets, outCols,
        new TypedBuffer(values.type(), gather(values.bytes(), kept, values.type().byteWidth()),
            n));
  }

  /** The values at {@code kept}, as stored bits in the stored byte order. */
  private static ByteBuffer gather(ByteBuffer src, int[] kept, int width) {
    int n = kept.length;
    ByteOrder order = src.order();
    byte[] out = new byte[n * width];
    ByteBuffer dst = ByteBuffer.wrap(out).order(order);
    switch (width) {
      case 8 -> {
        for (int i = 0; i < n; i++) {
          dst.putLong(i * 8, src.getLong(kept[i] * 8));
        }
      }
      case 4 -> {
        for (int i = 0; i < n; i++) {
          dst.putInt(i * 4, src.getInt(kept[i] * 4));
        }
      }
      case 2 -> {
        for (int i = 0; i < n; i++) {
          dst.putShort(i * 2, src.getShort(kept[i] * 2));
        }
      }
      default -> {
        for (int i = 0; i < n; i++) {
          out[i] = src.get(kept[i]);
        }
      }
    }
    return dst;
  }
}
