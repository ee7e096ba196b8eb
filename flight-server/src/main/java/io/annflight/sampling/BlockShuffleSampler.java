package io.annflight.sampling;

import io.annflight.schema.Sampler;
import java.util.Arrays;

/**
 * {@code block_shuffle}: each store's usable rows cut into blocks of {@code block_size}
 * consecutive ones (the last of a store shorter; a block never crosses a store), numbered over
 * the collection; the blocks in the order of a {@link KeyedPermutation} (key
 * {@code state(seed, epoch, 2)}: order index t holds block π(t)); that sequence of blocks cut
 * into pools of {@code pool_blocks}; and the rows of pool j, {@code m_j} of them, in the order
 * of a permutation of {@code [0, m_j)} keyed by {@code mix(state(seed, epoch, 2) ^ (j + 1))}.
 * A batch holds rows of about a pool's worth of blocks, which its reader sorts and reads as
 * short runs, while 256 consecutive rows come from about as many places in the collection as
 * uniform sampling gives (the defaults, 64 x 128, were chosen by measuring both).
 *
 * <p>Nothing per row or per block is held: only the blocks shorter than {@code block_size}
 * (at most one per store) are listed, with their order index ({@code π^-1}), so that where
 * every order index and pool begins is a sum over them.
 */
final class BlockShuffleSampler implements EpochSampler {
  static final long SALT = 2;
  /** Pools of at most this many blocks have their block numbers kept while a batch maps. */
  private static final int MEMO_BLOCKS = 4096;

  private final Sampler.BlockShuffle spec;

  BlockShuffleSampler(Sampler.BlockShuffle spec) {
    this.spec = spec;
  }

  @Override
  public EpochOrder order(EpochRows rows) {
    return new Order(rows, spec);
  }

  /** The epoch's order; the per-pool state is rebuilt per call, so it is shared freely. */
  private static final class Order implements EpochOrder {
    private final EpochRows rows;
    private final long blockSize;
    private final long poolBlocks;
    private final long baseState;
    /** First block of each store; blockStarts[nStores] is the number of blocks. */
    private final long[] blockStarts;
    private final long nBlocks;
    private final long nPools;
    private final KeyedPermutation blockOrder;
    /** Order indices of the short blocks, ascending, and the rows missing before each. */
    private final long[] shortAt;
    private final long[] missingBefore;

    Order(EpochRows rows, Sampler.BlockShuffle spec) {
      this.rows = rows;
      this.blockSize = spec.blockSize();
      this.poolBlocks = spec.poolBlocks();
      this.baseState = SplitMix64.state(spec.seed(), spec.epoch(), SALT);
      int nStores = rows.nStores();
      blockStarts = new long[nStores + 1];
      for (int s = 0; s < nStores; s++) {
        long count = rows.storeStart(s + 1) - rows.storeStart(s);
        blockStarts[s + 1] = blockStarts[s] + (count + blockSize - 1) / blockSize;
      }
      nBlocks = blockStarts[nStores];
      nPools = (nBlocks + poolBlocks - 1) / poolBlocks;
      blockOrder = new KeyedPermutation(nBlocks, baseState);
      long[][] shorts = new long[nStores][];
      int nShort = 0;
      for (int s = 0; s < nStores; s++) {
        long rest = (rows.storeStart(s + 1) - rows.storeStart(s)) % blockSize;
        if (rest != 0) {
          shorts[nShort++] = new long[] {blockOrder.inverse(blockStarts[s + 1] - 1),
              blockSize - rest};
        }
      }
      long[][] sorted = Arrays.copyOf(shorts, nShort);
      Arrays.sort(sorted, (a, b) -> Long.compare(a[0], b[0]));
      shortAt = new long[nShort];
      missingBefore = new long[nShort + 1];
      for (int i = 0; i < nShort; i++) {
        shortAt[i] = sorted[i][0];
        missingBefore[i + 1] = missingBefore[i] + sorted[i][1];
      }
    }

    @Override
    public long length() {
      return rows.size();
    }

    @Override
    public long row(long position) {
      Pool pool = pool(poolOf(position));
      return rowIn(pool, position, null);
    }

    @Override
    public void rows(long first, int count, long[] out, int at) {
      Pool pool = null;
      // A batch's rows come from few pools, each row's block from one of poolBlocks: their
      // block numbers are looked up once per pool and batch.
      long[] blocks = poolBlocks <= MEMO_BLOCKS ? new long[(int) poolBlocks] : null;
      for (int i = 0; i < count; i++) {
        long p = first + i;
        if (pool == null || p >= pool.end) {
          pool = pool(pool == null ? poolOf(p) : pool.index + 1);
          if (blocks != null) {
            java.util.Arrays.fill(blocks, -1);
          }
        }
        out[at + i] = rowIn(pool, p, blocks);
      }
    }

    /** Where order index t begins in the blocks' rows laid end to end. */
    private long start(long t) {
      return t * blockSize - missingBefore[lowerBound(shortAt, t)];
    }

    /** The pool holding a position: the last pool starting at or before it. */
    private long poolOf(long position) {
      long lo = Math.min(position / (blockSize * poolBlocks), nPools - 1);
      long hi = nPools - 1;
      while (lo < hi) {
        long mid = (lo + hi + 1) >>> 1;
        if (start(mid * poolBlocks) <= position) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      return lo;
    }

    private Pool pool(long j) {
      long firstT = j * poolBlocks;
      long endT = Math.min(nBlocks, firstT + poolBlocks);
      long start = start(firstT);
      long end = start(endT);
      boolean full = lowerBound(shortAt, firstT) == lowerBound(shortAt, endT);
      KeyedPermutation perm =
          new KeyedPermutation(end - start, SplitMix64.mix(baseState ^ (j + 1)));
      return new Pool(j, firstT, endT, start, end, full, perm);
    }

    /** @param blocks null, or the pool's block numbers known so far (-1: not yet) */
    private long rowIn(Pool pool, long position, long[] blocks) {
      long r = pool.perm.apply(position - pool.start);
      long t;
      long offset;
      if (pool.full) {
        t = pool.firstT + r / blockSize;
        offset = r % blockSize;
      } else {
        long x = pool.start + r; // the last order index of the pool starting at or before x
        long lo = pool.firstT;
        long hi = pool.endT - 1;
        while (lo < hi) {
          long mid = (lo + hi + 1) >>> 1;
          if (start(mid) <= x) {
            lo = mid;
          } else {
            hi = mid - 1;
          }
        }
        t = lo;
        offset = x - start(t);
      }
      long block;
      if (blocks == null) {
        block = blockOrder.apply(t);
      } else {
        int slot = (int) (t - pool.firstT);
        block = blocks[slot];
        if (block < 0) {
          block = blocks[slot] = blockOrder.apply(t);
        }
      }
      int store = upperBound(blockStarts, block) - 1;
      long usable = rows.storeStart(store) + (block - blockStarts[store]) * blockSize + offset;
      return rows.row(usable);
    }
  }

  private record Pool(long index, long firstT, long endT, long start, long end, boolean full,
      KeyedPermutation perm) {}

  /** Entries of a (sorted) array below v. */
  private static int lowerBound(long[] a, long v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Entries of a (sorted) array at or below v. */
  private static int upperBound(long[] a, long v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
