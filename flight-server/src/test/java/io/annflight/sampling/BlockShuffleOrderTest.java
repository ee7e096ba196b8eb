package io.annflight.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.annflight.collection.RowIndex;
import io.annflight.schema.Sampler;
import io.annflight.schema.Split;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * block_shuffle over synthetic row counts (no files): a permutation for assorted store sizes
 * (empty stores, stores shorter than a block, sizes no block size divides) and block / pool
 * sizes; every pool made of whole blocks, which never cross a store; a split's part ordered
 * the same way; at 10^9 rows the sampled positions are distinct rows, a batch of consecutive
 * positions from at most a pool of blocks; on the benchmark's 50,000 rows the mixing the
 * README's defaults were chosen for.
 */
class BlockShuffleOrderTest {

  @Test
  void assortedShapesArePermutationsOfWholeBlocksWithinStores() {
    long[][] shapes = {{0}, {1}, {7}, {64}, {65}, {3, 0, 5, 0, 0, 9}, {200, 1, 333, 64, 0},
        {1000, 999, 1}};
    int[][] sizes = {{1, 1}, {4, 3}, {64, 128}, {5, 2}, {16, 1}, {3, 1000}};
    for (long[] stores : shapes) {
      for (int[] bp : sizes) {
        for (long seed = 0; seed < 3; seed++) {
          RowIndex index = index(stores);
          EpochOrder order = new BlockShuffleSampler(new Sampler.BlockShuffle(seed, seed * 7,
              bp[0], bp[1])).order(EpochRows.of(index, null));
          checkWholeBlocks(index, null, order, bp[0], bp[1],
              Arrays.toString(stores) + " " + Arrays.toString(bp) + " seed " + seed);
        }
      }
    }
  }

  @Test
  void aSplitsPartIsOrderedInBlocksOfItsOwnRows() {
    RowIndex index = index(new long[] {500, 37, 0, 1200});
    RankBitmap part = SplitRows.part(index, new long[] {500, 37, 0, 1200},
        new Split(0.3, 4, Split.Part.TRAIN));
    EpochOrder order = new BlockShuffleSampler(new Sampler.BlockShuffle(1, 2, 8, 5))
        .order(EpochRows.of(index, part));
    assertThat(order.length()).isEqualTo(part.ones());
    checkWholeBlocks(index, part, order, 8, 5, "split");
  }

  @Test
  void aBillionRowsInFiveHundredStoresOnSamples() {
    long[] stores = new long[500];
    Arrays.fill(stores, 2_000_000);
    stores[7] = 1_999_999; // short blocks at the end of a few stores
    stores[300] = 12_345;
    RowIndex index = index(stores);
    EpochOrder order = new BlockShuffleSampler(new Sampler.BlockShuffle(3, 1, 64, 128))
        .order(EpochRows.of(index, null));
    assertThat(order.length()).isEqualTo(index.nObs());
    long[] rows = new long[4096];
    Set<Long> sampled = new HashSet<>();
    for (long first : new long[] {0, 123_456_789, index.nObs() / 2, index.nObs() - 4096}) {
      order.rows(first, rows.length, rows, 0);
      Set<Long> blocks = new HashSet<>();
      for (int i = 0; i < rows.length; i++) {
        assertThat(rows[i]).isBetween(0L, index.nObs() - 1);
        assertThat(order.row(first + i)).isEqualTo(rows[i]);
        assertThat(sampled.add(rows[i])).as("row %d twice", rows[i]).isTrue();
        int s = index.storeOf(rows[i]);
        blocks.add(s * 1_000_000L + (rows[i] - index.offset(s)) / 64);
      }
      assertThat(blocks.size()).as("blocks of a batch").isLessThanOrEqualTo(2 * 128);
    }
  }

  @Test
  void theDefaultsMixLikeTheBenchmarkSays() {
    // sampling_bench.py's figure: distinct 1,000-row ranges among 256 consecutive rows of a
    // 50,000-row epoch, averaged over the epoch's windows (uniform sampling gives 49.7).
    RowIndex index = index(new long[] {50_000});
    for (long seed = 0; seed < 3; seed++) {
      EpochOrder order = new BlockShuffleSampler(new Sampler.BlockShuffle(seed, 0,
          Sampler.BlockShuffle.DEFAULT_BLOCK_SIZE, Sampler.BlockShuffle.DEFAULT_POOL_BLOCKS))
          .order(EpochRows.of(index, null));
      double total = 0;
      int windows = 0;
      for (long first = 0; first + 256 <= 50_000; first += 256) {
        Set<Long> ranges = new HashSet<>();
        for (int i = 0; i < 256; i++) {
          ranges.add(order.row(first + i) / 1000);
        }
        total += ranges.size();
        windows++;
      }
      assertThat(total / windows).as("seed %d", seed).isGreaterThanOrEqualTo(40);
    }
  }

  /** The order is a permutation of the usable rows; each pool is whole blocks. */
  private static void checkWholeBlocks(RowIndex index, RankBitmap part, EpochOrder order,
      int blockSize, int poolBlocks, String what) {
    EpochRows usable = EpochRows.of(index, part);
    long n = usable.size();
    assertThat(order.length()).as(what).isEqualTo(n);
    long[] all = new long[(int) n];
    order.rows(0, (int) n, all, 0);
    long[] shifted = new long[(int) n + 3];
    order.rows(0, (int) n, shifted, 3);
    assertThat(Arrays.copyOfRange(shifted, 3, (int) n + 3)).as(what).isEqualTo(all);
    long[] sorted = all.clone();
    Arrays.sort(sorted);
    for (int k = 0; k < n; k++) {
      if (sorted[k] != usable.row(k) || order.row(k) != all[k]) {
        fail("%s: not a permutation of the usable rows at %d", what, k);
      }
    }
    // Walk the pools: blocks (store, index within the store's usable rows / blockSize)
    // appear whole within one pool, at most poolBlocks of them.
    Set<Long> done = new HashSet<>();
    int p = 0;
    while (p < n) {
      java.util.Map<Long, Integer> counts = new java.util.HashMap<>();
      java.util.Map<Long, Integer> sizes = new java.util.HashMap<>();
      int taken = 0;
      while (p < n) {
        long row = all[p];
        int s = index.storeOf(row);
        long k = (part == null ? row : part.rank(row)) - usable.storeStart(s);
        long block = ((long) s << 40) | (k / blockSize);
        long storeRows = usable.storeStart(s + 1) - usable.storeStart(s);
        int size = (int) Math.min(blockSize, storeRows - (k / blockSize) * blockSize);
        if (!counts.containsKey(block)) {
          if (counts.size() == poolBlocks) {
            break;
          }
          assertThat(done.add(block)).as("%s: block %x in two pools", what, block).isTrue();
          sizes.put(block, size);
        }
        counts.merge(block, 1, Integer::sum);
        p++;
        taken++;
      }
      // A pool ends only once all its blocks are whole.
      counts.forEach((b, c) -> assertThat(c).as("%s: block %x in its pool", what, b)
          .isEqualTo(sizes.get(b)));
      assertThat(taken).isPositive();
    }
  }

  static RowIndex index(long[] stores) {
    return new RowIndex(new int[stores.length][], stores);
  }
}
