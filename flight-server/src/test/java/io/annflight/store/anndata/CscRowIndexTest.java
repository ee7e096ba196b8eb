package io.annflight.store.anndata;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.store.RowBlock;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerGroup;
import io.annflight.store.h5ad.H5Container;
import io.annflight.store.zarr.ZarrContainer;
import io.annflight.testing.Fixtures;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CSC rows read through the row index equal those read by scanning the matrix (the path taken
 * when an index would exceed its memory budget), for ranges and random sorted row lists with
 * duplicates, and both equal the expected values anndata read.
 */
class CscRowIndexTest {

  @ParameterizedTest
  @ValueSource(strings = {"fixtures/csc.h5ad", "fixtures/csc.zarr", "formats/v3.zarr"})
  void indexedReadsEqualScans(String name) {
    Path path = (name.startsWith("formats/") ? Fixtures.formats() : Fixtures.dir())
        .resolve(name.substring(name.indexOf('/') + 1));
    String element = name.startsWith("formats/") ? "layers/csc64" : "X";
    try (Container c = path.toString().endsWith(".h5ad") ? H5Container.open(path)
        : ZarrContainer.open(path)) {
      ContainerGroup group = (ContainerGroup) c.find(element).orElseThrow();
      SparseArrays arrays = new SparseArrays(c, element, group, false);
      CscMatrix indexed = new CscMatrix(arrays);
      CscMatrix scanning = new CscMatrix(arrays, 0);
      assertThat(indexed.indexed()).isTrue();
      assertThat(scanning.indexed()).isFalse();
      long n = indexed.nRows();
      assertSame(indexed.readRows(0, n), scanning.readRows(0, n), "all rows");
      assertSame(indexed.readRows(n / 3, n / 2), scanning.readRows(n / 3, n / 2), "a range");
      Random random = new Random(5);
      for (int trial = 0; trial < 20; trial++) {
        long[] rows = new long[1 + random.nextInt((int) n)];
        for (int i = 0; i < rows.length; i++) {
          rows[i] = random.nextInt((int) n);
        }
        Arrays.sort(rows);
        assertSame(indexed.readRows(rows), scanning.readRows(rows), Arrays.toString(rows));
      }
      assertSame(indexed.readRows(new long[0]), scanning.readRows(new long[0]), "no rows");
    }
  }

  private static void assertSame(RowBlock a, RowBlock b, String what) {
    Fixtures.assertRows(Fixtures.toDense(a), Fixtures.toDense(b), what);
    RowBlock.Sparse x = (RowBlock.Sparse) a;
    RowBlock.Sparse y = (RowBlock.Sparse) b;
    assertThat(x.rowOffsets()).as(what).containsExactly(y.rowOffsets());
    assertThat(Arrays.copyOf(x.columns(), x.nnz())).as(what)
        .containsExactly(Arrays.copyOf(y.columns(), y.nnz()));
  }
}
