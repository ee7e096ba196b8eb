package io.annflight.store.anndata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.h5ad.H5Container;
import io.annflight.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The check of stored CSR indices copied as stored: in range and strictly ascending rows pass,
 * a repeated or falling index anywhere in a row (first, middle, last pair) makes it unsorted,
 * and an index outside [0, n_vars) anywhere is refused naming the file and element.
 */
class SparseIndexCheckTest {

  @Test
  void rangeAndOrderOfEachRow() {
    try (Container c = H5Container.open(Fixtures.dir().resolve("csr.h5ad"))) {
      SparseArrays arrays = new SparseArrays(c, "X", (ContainerGroup) c.find("X").orElseThrow(),
          true);
      int n = (int) arrays.nMinor;
      assertThat(n).isGreaterThan(4);
      assertThat(check(arrays)).isTrue();
      assertThat(check(arrays, 0)).isTrue();
      assertThat(check(arrays, 0, 1, 2, n - 1)).isTrue();
      assertThat(check(arrays, 1, 1, 2, 3)).isFalse();
      assertThat(check(arrays, 0, 2, 1, 3)).isFalse();
      assertThat(check(arrays, 0, 1, 3, 3)).isFalse();
      assertThat(check(arrays, 3, 2, 1, 0)).isFalse();
      // Entries before `from` and after `from + n` are not the row's.
      ByteBuffer buffer = little(9, 7, 0, 1, 5, 2);
      assertThat(arrays.checkIndices(buffer, 2, 3)).isTrue();
      assertThat(arrays.checkIndices(buffer, 1, 3)).isFalse();
      for (int[] bad : new int[][] {{0, 1, n}, {-1, 0, 1}, {0, n + 5, 1}, {Integer.MIN_VALUE},
          {0, 1, 2, Integer.MAX_VALUE}}) {
        assertThatThrownBy(() -> check(arrays, bad))
            .hasMessageContaining("csr.h5ad").hasMessageContaining("X/indices");
      }
    }
  }

  private static boolean check(SparseArrays arrays, int... row) {
    return arrays.checkIndices(little(row), 0, row.length);
  }

  private static ByteBuffer little(int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return b;
  }
}
