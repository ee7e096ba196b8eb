package io.annflight.sampling;

import io.annflight.schema.Sampler;

/**
 * {@code block_shuffle}: the rows cut into blocks of {@code block_size} consecutive usable rows,
 * a block never crossing a store; the blocks in a Fisher-Yates order (PRNG salt 2); then, pool
 * by pool of {@code pool_blocks} consecutive blocks of that order, the pool's rows in a
 * Fisher-Yates order (the same generator, continued). A batch then holds rows of up to a pool's
 * worth of blocks, which its reader sorts and reads as short runs, while 256 consecutive rows
 * come from about as many places in the collection as uniform sampling gives (the defaults,
 * 64 x 128, were chosen by measuring both; see the README).
 */
final class BlockShuffleSampler implements EpochSampler {
  private final Sampler.BlockShuffle spec;

  BlockShuffleSampler(Sampler.BlockShuffle spec) {
    this.spec = spec;
  }

  @Override
  public int[] order(EpochRows rows) {
    int n = rows.size();
    int b = spec.blockSize();
    // Block starts: every b usable rows, and wherever the store changes.
    int[] starts = new int[n + 1];
    int nBlocks = 0;
    for (int k = 0, inBlock = 0, store = -1; k < n; k++) {
      int s = rows.storeOf(k);
      if (s != store || inBlock == b) {
        starts[nBlocks++] = k;
        store = s;
        inBlock = 0;
      }
      inBlock++;
    }
    starts[nBlocks] = n;
    int[] blocks = new int[nBlocks];
    for (int i = 0; i < nBlocks; i++) {
      blocks[i] = i;
    }
    SplitMix64 rng = SplitMix64.of(spec.seed(), spec.epoch(), 2);
    rng.shuffle(blocks, 0, nBlocks);
    int[] out = new int[n];
    int pos = 0;
    for (int first = 0; first < nBlocks; first += spec.poolBlocks()) {
      int poolStart = pos;
      int last = Math.min(nBlocks, first + spec.poolBlocks());
      for (int i = first; i < last; i++) {
        for (int k = starts[blocks[i]]; k < starts[blocks[i] + 1]; k++) {
          out[pos++] = rows.row(k);
        }
      }
      rng.shuffle(out, poolStart, pos);
    }
    return out;
  }
}
