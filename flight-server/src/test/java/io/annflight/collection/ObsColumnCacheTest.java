package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.schema.CollectionRequest;
import io.annflight.schema.LabelType;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.CategoryCodes;
import io.annflight.store.ColumnData;
import io.annflight.testing.Fixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Obs columns are read only when a request needs them, kept within the cache's byte budget
 * (accounted as the kept columns' size) and read again, equal, once evicted.
 */
class ObsColumnCacheTest {
  private static final List<String> STORES = List.of("dense.h5ad", "csr.zarr", "csc.h5ad");

  private static StoreCatalog catalog(long budget) {
    return new StoreCatalog(AnnDataStores::open, Duration.ofSeconds(30), 0,
        new ObsColumnCache(budget));
  }

  private static CollectionRequest request(String extra) {
    String paths = String.join("\", \"", STORES);
    return RequestJson.parse(RequestJson.readObject(("{\"paths\": [\"" + paths + "\"]" + extra
        + "}").getBytes(), "test"), name -> {
          throw new RequestException("no collections in tests: " + name);
        }, Set.of());
  }

  private static List<Path> paths() {
    return STORES.stream().map(p -> Fixtures.dir().resolve(p)).toList();
  }

  /** The labels of a column as read straight from a freshly opened store. */
  private static List<Object> labelsOnDisk(String store, String key) {
    try (AnnDataStore s = AnnDataStores.open(Fixtures.dir().resolve(store))) {
      ColumnData c = s.obs().column(key);
      List<Object> out = new ArrayList<>();
      for (int r = 0; r < c.length(); r++) {
        out.add(LabelValues.labelAt(c, r, LabelValues.typeOf(c)));
      }
      return out;
    }
  }

  private static List<Object> labels(ColumnData c) {
    List<Object> out = new ArrayList<>();
    for (int r = 0; r < c.length(); r++) {
      out.add(LabelValues.labelAt(c, r, LabelValues.typeOf(c)));
    }
    return out;
  }

  @Test
  void obsColumnsAreReadOnlyWhenARequestNeedsThem() {
    try (StoreCatalog catalog = catalog(ObsColumnCache.DEFAULT_BYTES)) {
      CollectionEngine engine = new CollectionEngine(catalog);
      CollectionPlan plain = engine.plan(request(""), paths());
      assertThat(plain.queries().shape()[0]).isPositive();
      assertThat(catalog.obsColumns().reads()).isZero();
      assertThat(catalog.obsColumns().usedBytes()).isZero();

      engine.plan(request(", \"obs_keys\": [\"cell_type\"]"), paths());
      assertThat(catalog.obsColumns().reads()).isEqualTo(STORES.size());
      assertThat(catalog.obsColumns().size()).isEqualTo(STORES.size());
      // A second request over the same openings reads nothing again.
      engine.plan(request(", \"obs_keys\": [\"cell_type\"], \"encode_labels\": false"), paths());
      assertThat(catalog.obsColumns().reads()).isEqualTo(STORES.size());
    }
  }

  @Test
  void theBudgetIsHonouredAccountedAndEvictedColumnsAreReadAgainEqual() {
    long oneColumn;
    try (StoreCatalog big = catalog(ObsColumnCache.DEFAULT_BYTES)) {
      oneColumn = paths().stream().mapToLong(p -> big.get(p).obsColumn("cell_type")
          .orElseThrow().heapBytes()).max().orElseThrow();
    }
    try (StoreCatalog catalog = catalog(oneColumn + 1)) {
      ObsColumnCache cache = catalog.obsColumns();
      for (int s = 0; s < STORES.size(); s++) {
        ColumnData c = catalog.get(paths().get(s)).obsColumn("cell_type").orElseThrow();
        assertThat(labels(c)).isEqualTo(labelsOnDisk(STORES.get(s), "cell_type"));
        assertThat(cache.usedBytes()).isEqualTo(c.heapBytes()).isLessThanOrEqualTo(oneColumn + 1);
        assertThat(cache.size()).isEqualTo(1);
      }
      long reads = cache.reads();
      ColumnData again = catalog.get(paths().get(0)).obsColumn("cell_type").orElseThrow();
      assertThat(cache.reads()).isEqualTo(reads + 1);
      assertThat(labels(again)).isEqualTo(labelsOnDisk(STORES.get(0), "cell_type"));
    }
  }

  @Test
  void labelsAndWeightsAreTheSameWhateverTheCacheKeeps() {
    CollectionRequest r = request(", \"obs_keys\": [\"cell_type\", \"tissue\"]");
    List<Object> merged;
    double[] weights;
    try (StoreCatalog catalog = catalog(ObsColumnCache.DEFAULT_BYTES)) {
      CollectionPlan plan = new CollectionEngine(catalog).plan(r, paths());
      merged = plan.queries().getMergedLabels("cell_type").values();
      weights = plan.queries().getLabelWeights(List.of("cell_type", "tissue"), null);
    }
    try (StoreCatalog none = catalog(0)) {
      CollectionPlan plan = new CollectionEngine(none).plan(r, paths());
      assertThat(plan.queries().getMergedLabels("cell_type").values()).isEqualTo(merged);
      assertThat(plan.queries().getLabelWeights(List.of("cell_type", "tissue"), null))
          .containsExactly(weights);
      assertThat(none.obsColumns().usedBytes()).isZero();
    }
    List<Object> expected = new ArrayList<>();
    STORES.forEach(s -> expected.addAll(labelsOnDisk(s, "cell_type")));
    assertThat(merged).isEqualTo(expected);
  }

  @Test
  void codesTakeTheNarrowestArrayAndRepeatedStringsBecomeADictionary() {
    assertThat(CategoryCodes.allocate(1000, 100).bytes()).isEqualTo(16 + 1000);
    assertThat(CategoryCodes.allocate(1000, 1000).bytes()).isEqualTo(16 + 2000);
    assertThat(CategoryCodes.allocate(1000, 40_000).bytes()).isEqualTo(16 + 4000);
    CategoryCodes codes = CategoryCodes.of(new int[] {-1, 0, 126, 5}, 127);
    assertThat(codes.toArray()).containsExactly(-1, 0, 126, 5);

    String[] values = new String[1000];
    for (int i = 0; i < values.length; i++) {
      values[i] = i % 7 == 0 ? null : "type " + (i % 5);
    }
    ColumnData plain = new ColumnData.Strings(values);
    ColumnData compact = CompactColumns.compact(plain);
    assertThat(compact).isInstanceOf(ColumnData.Categorical.class);
    assertThat(compact.heapBytes()).isLessThan(plain.heapBytes() / 10);
    assertThat(LabelValues.typeOf(compact)).isEqualTo(LabelType.UTF8);
    assertThat(labels(compact)).isEqualTo(labels(plain));
    assertThat(LabelValues.categoriesOf(compact, LabelType.UTF8))
        .isEqualTo(LabelValues.categoriesOf(plain, LabelType.UTF8));
    // Mostly unique strings (names) stay as they are.
    String[] names = new String[100];
    for (int i = 0; i < names.length; i++) {
      names[i] = "cell" + i;
    }
    assertThat(CompactColumns.compact(new ColumnData.Strings(names)))
        .isInstanceOf(ColumnData.Strings.class);
  }
}
