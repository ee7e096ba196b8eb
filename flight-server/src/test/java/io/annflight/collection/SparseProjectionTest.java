package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.schema.ElementType;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A block larger than the scratch a thread keeps is projected in an array of its own, with the
 * same result as the same rows in small blocks.
 */
class SparseProjectionTest {

  /** {@code rows} rows of {@code perRow} entries at columns 0, 1, ..., values their position. */
  private static RowBlock.Sparse block(int rows, int perRow, int firstValue) {
    int[] offsets = new int[rows + 1];
    int[] cols = new int[rows * perRow];
    ByteBuffer values = ByteBuffer.allocate(cols.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      offsets[r + 1] = (r + 1) * perRow;
      for (int k = 0; k < perRow; k++) {
        int e = r * perRow + k;
        cols[e] = k;
        values.putInt(e * 4, firstValue + e);
      }
    }
    return new RowBlock.Sparse(rows, perRow, offsets, cols,
        new TypedBuffer(ElementType.INT32, values, cols.length));
  }

  @Test
  void aBlockPastTheKeptScratchEqualsItsRowsInSmallBlocks() {
    int perRow = 1000;
    int rows = SparseProjection.MAX_KEPT_SCRATCH / perRow + 10;
    int[] map = new int[perRow];
    for (int c = 0; c < perRow; c++) {
      map[c] = c % 7 == 0 ? perRow / 7 - c / 7 : -1; // reversed: rows get sorted
    }
    RowBlock.Sparse big = SparseProjection.project(block(rows, perRow, 0), map, false, 143);
    assertThat(big.nnz()).isEqualTo(rows * 143);
    for (int r : new int[] {0, rows / 2, rows - 1}) {
      RowBlock.Sparse one = SparseProjection.project(block(1, perRow, r * perRow), map, false,
          143);
      int from = big.rowOffsets()[r];
      assertThat(Arrays.copyOfRange(big.columns(), from, from + 143)).containsExactly(
          one.columns());
      for (int k = 0; k < 143; k++) {
        assertThat(big.values().bytes().getInt((from + k) * 4))
            .isEqualTo(one.values().bytes().getInt(k * 4));
      }
      assertThat(one.columns()[0]).isLessThan(one.columns()[1]);
    }
  }
}
