package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.ElementType;
import io.annflight.store.ChunkCache;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.ParallelTasks;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A projected CSR matrix against the projection done by hand on the same stored rows: ranges
 * across groups, sorted rows with duplicates, scattered rows, rows stored unsorted and maps out
 * of column order (both come out ascending), every value width and byte order; and what is read
 * from the store, cached or not.
 */
class ProjectedMatrixTest {
  private static final int ROWS = 700; // two whole groups and a partial one
  private static final int COLS = 60;
  /** Missing groups read by the test thread and a helper, as in a server. */
  private static final ParallelTasks PARALLEL = new ParallelTasks(
      java.util.concurrent.Executors.newFixedThreadPool(1, r -> {
        Thread t = new Thread(r, "projection-test-helper");
        t.setDaemon(true);
        return t;
      }), 1);

  /** Columns 0, 3, 6, ... kept, in order, at 0, 1, 2, ... */
  private static int[] everyThird() {
    int[] map = new int[COLS];
    for (int c = 0; c < COLS; c++) {
      map[c] = c % 3 == 0 ? c / 3 : -1;
    }
    return map;
  }

  @Test
  void rangesEqualTheProjectionByHand() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 1);
    ProjectedMatrix p = projected(csr, 1 << 24);
    assertThat(p.nCols()).isEqualTo(COLS / 3);
    assertThat(p.layout()).isEqualTo(MatrixLayout.CSR);
    for (long[] r : new long[][] {{0, 700}, {0, 0}, {250, 260}, {255, 513}, {699, 700},
        {512, 700}, {3, 4}}) {
      assertSameRows(p.readRows(r[0], r[1]), csr.expected(everyThird(), range(r[0], r[1])));
    }
  }

  @Test
  void sortedRowsWithDuplicatesEqualTheProjectionByHand() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 2);
    for (long budget : new long[] {0, 1 << 24}) {
      ProjectedMatrix p = projected(csr, budget);
      Random random = new Random(3);
      for (int trial = 0; trial < 20; trial++) {
        long[] rows = random.longs(1 + random.nextInt(200), 0, ROWS).sorted().toArray();
        assertSameRows(p.readRows(rows), csr.expected(everyThird(), rows));
      }
      long[] dup = {0, 0, 5, 255, 256, 256, 699, 699};
      assertSameRows(p.readRows(dup), csr.expected(everyThird(), dup));
    }
  }

  @Test
  void everyWidthAndByteOrderKeepsItsBits() {
    for (ElementType t : new ElementType[] {ElementType.FLOAT64, ElementType.INT16,
        ElementType.INT8, ElementType.INT32}) {
      for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
        Csr csr = Csr.random(t, order, 4);
        ProjectedMatrix p = projected(csr, 1 << 24);
        RowBlock.Sparse got = (RowBlock.Sparse) p.readRows(10, 400);
        assertThat(got.values().bytes().order()).isEqualTo(order);
        assertSameRows(got, csr.expected(everyThird(), range(10, 400)));
      }
    }
  }

  @Test
  void cachedGroupsAreNotReadAgain() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 5);
    ProjectedMatrix p = projected(csr, 1 << 24);
    p.readRows(0, ROWS);
    assertThat(csr.rowsRead.get()).isEqualTo(ROWS);
    RowBlock again = p.readRows(100, 600);
    assertThat(csr.rowsRead.get()).isEqualTo(ROWS);
    assertSameRows(again, csr.expected(everyThird(), range(100, 600)));
    assertSameRows(p.readRows(new long[] {1, 2, 690}),
        csr.expected(everyThird(), new long[] {1, 2, 690}));
    assertThat(csr.rowsRead.get()).isEqualTo(ROWS);
  }

  @Test
  void scatteredRowsAreReadAloneAndBlocksFillTheirGroup() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 6);
    ProjectedMatrix p = projected(csr, 1 << 24);
    p.readRows(new long[] {3, 300, 301, 600});
    assertThat(csr.rowsRead.get()).isEqualTo(4); // none of their groups filled
    long[] block = range(300, 300 + ProjectedMatrix.FILL_ROWS);
    p.readRows(block);
    assertThat(csr.rowsRead.get()).isEqualTo(4 + ProjectedMatrix.GROUP_ROWS);
    p.readRows(new long[] {260, 511});
    assertThat(csr.rowsRead.get()).isEqualTo(4 + ProjectedMatrix.GROUP_ROWS); // cached
  }

  @Test
  void rowsStoredUnsortedComeOutAscending() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 7).reversedRows();
    assertThat(csr.indices[csr.indptr[1] - 1]).isLessThan(csr.indices[csr.indptr[0]]);
    ProjectedMatrix p = projected(csr, 1 << 24);
    assertSameRows(p.readRows(0, 50), csr.expected(everyThird(), range(0, 50)));
    assertSameRows(p.readRows(new long[] {3, 3, 400}),
        csr.expected(everyThird(), new long[] {3, 3, 400}));
  }

  @Test
  void aVocabularyInItsOwnOrderComesOutAscending() {
    // Kept columns 0, 3, 6, ... land at positions 19, 18, ..., 0: a gene list in another order.
    int[] reversed = everyThird();
    for (int c = 0; c < COLS; c++) {
      reversed[c] = reversed[c] < 0 ? -1 : COLS / 3 - 1 - reversed[c];
    }
    Csr csr = Csr.random(ElementType.FLOAT64, ByteOrder.BIG_ENDIAN, 10);
    ProjectedMatrix p = new ProjectedMatrix(csr, reversed, COLS / 3, new ChunkCache(1 << 24),
        PARALLEL);
    assertThat(ProjectedMatrix.pays(csr, reversed, new ChunkCache(1 << 24))).isTrue();
    assertSameRows(p.readRows(0, ROWS), csr.expected(reversed, range(0, ROWS)));
    assertSameRows(p.readRows(new long[] {1, 500, 500}),
        csr.expected(reversed, new long[] {1, 500, 500}));
  }

  @Test
  void rowsOutsideTheMatrixAreRefused() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 8);
    ProjectedMatrix p = projected(csr, 1 << 24);
    assertThatThrownBy(() -> p.readRows(0, ROWS + 1))
        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("701");
    assertThatThrownBy(() -> p.readRows(new long[] {5, 4}))
        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("position 1");
    assertThatThrownBy(() -> p.readRows(new long[] {ROWS}))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void onlyProjectionsThatKeepFewColumnsAreCached() {
    Csr csr = Csr.random(ElementType.FLOAT32, ByteOrder.LITTLE_ENDIAN, 9);
    ChunkCache cache = new ChunkCache(1 << 24);
    assertThat(ProjectedMatrix.pays(csr, everyThird(), cache)).isTrue();
    assertThat(ProjectedMatrix.pays(csr, everyThird(), new ChunkCache(0))).isFalse();
    assertThat(ProjectedMatrix.pays(csr, everyThird(), new ChunkCache(1000))).isFalse();
    assertThat(ProjectedMatrix.pays(csr, null, cache)).isFalse();
    int[] most = new int[COLS];
    for (int c = 0; c < COLS; c++) {
      most[c] = c % 4 == 0 ? -1 : c;
    }
    assertThat(ProjectedMatrix.pays(csr, most, cache)).isFalse();
  }

  private static ProjectedMatrix projected(Csr csr, long cacheBytes) {
    return new ProjectedMatrix(csr, everyThird(), COLS / 3, new ChunkCache(cacheBytes), PARALLEL);
  }

  private static long[] range(long start, long stop) {
    long[] r = new long[(int) (stop - start)];
    for (int i = 0; i < r.length; i++) {
      r[i] = start + i;
    }
    return r;
  }

  /** Rows as (column, value bits) lists, compared row by row. */
  private static void assertSameRows(RowBlock block, List<List<long[]>> expected) {
    RowBlock.Sparse got = (RowBlock.Sparse) block;
    assertThat(got.nRows()).isEqualTo(expected.size());
    for (int r = 0; r < got.nRows(); r++) {
      List<long[]> row = new ArrayList<>();
      for (int e = got.rowOffsets()[r]; e < got.rowOffsets()[r + 1]; e++) {
        row.add(new long[] {got.columns()[e], bits(got.values(), e)});
      }
      assertThat(row).as("row %d", r).usingElementComparator(Arrays::compare)
          .containsExactlyElementsOf(expected.get(r));
    }
  }

  private static long bits(TypedBuffer b, int i) {
    ByteBuffer bytes = b.bytes();
    return switch (b.type().byteWidth()) {
      case 8 -> bytes.getLong(i * 8);
      case 4 -> bytes.getInt(i * 4);
      case 2 -> bytes.getShort(i * 2);
      default -> bytes.get(i);
    };
  }

  /** An in-memory CSR matrix of random entries that counts the rows read from it. */
  private static final class Csr implements MatrixReader {
    final int[] indptr;
    final int[] indices;
    final byte[] data;
    final ElementType type;
    final ByteOrder order;
    final AtomicLong rowsRead = new AtomicLong();

    private Csr(int[] indptr, int[] indices, byte[] data, ElementType type, ByteOrder order) {
      this.indptr = indptr;
      this.indices = indices;
      this.data = data;
      this.type = type;
      this.order = order;
    }

    static Csr random(ElementType type, ByteOrder order, long seed) {
      Random random = new Random(seed);
      int[] indptr = new int[ROWS + 1];
      List<Integer> cols = new ArrayList<>();
      for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
          if (random.nextDouble() < 0.3) {
            cols.add(c);
          }
        }
        indptr[r + 1] = cols.size();
      }
      byte[] data = new byte[cols.size() * type.byteWidth()];
      random.nextBytes(data);
      return new Csr(indptr, cols.stream().mapToInt(Integer::intValue).toArray(), data, type,
          order);
    }

    /** The same entries with each row's entries in descending column order. */
    Csr reversedRows() {
      int w = type.byteWidth();
      int[] idx = indices.clone();
      byte[] d = data.clone();
      for (int r = 0; r < ROWS; r++) {
        for (int a = indptr[r], b = indptr[r + 1] - 1; a < b; a++, b--) {
          int t = idx[a];
          idx[a] = idx[b];
          idx[b] = t;
          byte[] tmp = Arrays.copyOfRange(d, a * w, a * w + w);
          System.arraycopy(d, b * w, d, a * w, w);
          System.arraycopy(tmp, 0, d, b * w, w);
        }
      }
      return new Csr(indptr, idx, d, type, order);
    }

    /** Each row's kept entries by ascending output column: (output column, value bits). */
    List<List<long[]>> expected(int[] map, long[] rows) {
      TypedBuffer all = new TypedBuffer(type, ByteBuffer.wrap(data).order(order), indices.length);
      List<List<long[]>> out = new ArrayList<>();
      for (long r : rows) {
        List<long[]> row = new ArrayList<>();
        for (int e = indptr[(int) r]; e < indptr[(int) r + 1]; e++) {
          if (map[indices[e]] >= 0) {
            row.add(new long[] {map[indices[e]], bits(all, e)});
          }
        }
        row.sort(java.util.Comparator.comparingLong(entry -> entry[0]));
        out.add(row);
      }
      return out;
    }

    @Override
    public String elementPath() {
      return "X";
    }

    @Override
    public long nRows() {
      return ROWS;
    }

    @Override
    public long nCols() {
      return COLS;
    }

    @Override
    public long storedValues() {
      return indices.length;
    }

    @Override
    public ElementType elementType() {
      return type;
    }

    @Override
    public MatrixLayout layout() {
      return MatrixLayout.CSR;
    }

    @Override
    public RowBlock readRows(long start, long stop) {
      long[] rows = range(start, stop);
      return readRows(rows);
    }

    @Override
    public RowBlock readRows(long[] sortedRows) {
      rowsRead.addAndGet(sortedRows.length);
      int w = type.byteWidth();
      int[] offsets = new int[sortedRows.length + 1];
      for (int i = 0; i < sortedRows.length; i++) {
        int r = (int) sortedRows[i];
        offsets[i + 1] = offsets[i] + indptr[r + 1] - indptr[r];
      }
      int[] cols = new int[offsets[sortedRows.length]];
      byte[] vals = new byte[cols.length * w];
      for (int i = 0; i < sortedRows.length; i++) {
        int r = (int) sortedRows[i];
        int len = indptr[r + 1] - indptr[r];
        System.arraycopy(indices, indptr[r], cols, offsets[i], len);
        System.arraycopy(data, indptr[r] * w, vals, offsets[i] * w, len * w);
      }
      return new RowBlock.Sparse(sortedRows.length, COLS, offsets, cols,
          new TypedBuffer(type, ByteBuffer.wrap(vals).order(order), cols.length));
    }
  }
}
