package io.annflight.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every sampler over a real collection (dense.h5ad, 60 rows, + f_same_var.zarr, 25 rows): a
 * permutation (or the requested draw), a pure function of the request, different across
 * epochs and seeds; the split disjoint, whole and stable when a store is appended; equal parts
 * equal. Expected label frequencies come from the fixtures' expected JSON (anndata's values).
 */
class EpochOrdersTest {
  private static final String PATHS = "\"paths\": [\"dense.h5ad\", \"f_same_var.zarr\"]";
  private static final int N = 85;

  StoreCatalog catalog;
  CollectionEngine engine;

  @BeforeEach
  void open() {
    catalog = new StoreCatalog(AnnDataStores::open);
    engine = new CollectionEngine(catalog);
  }

  @AfterEach
  void close() {
    catalog.close();
  }

  @Test
  void shuffleAndBlockShuffleArePermutationsFixedBySeedAndEpoch() {
    for (String sampler : List.of("{\"kind\": \"shuffle\", \"seed\": 3, \"epoch\": 0}",
        "{\"kind\": \"block_shuffle\", \"seed\": 3, \"epoch\": 0, \"block_size\": 4,"
            + " \"pool_blocks\": 3}")) {
      long[] a = rows(order("\"sampler\": " + sampler));
      assertThat(sorted(a)).as(sampler).isEqualTo(range(N));
      assertThat(rows(EpochOrders.build(plan(""), spec("\"sampler\": " + sampler))))
          .as("built again").isEqualTo(a);
      assertThat(rows(order("\"sampler\": " + sampler.replace("\"epoch\": 0", "\"epoch\": 1"))))
          .as("another epoch").isNotEqualTo(a);
      assertThat(rows(order("\"sampler\": " + sampler.replace("\"seed\": 3", "\"seed\": 4"))))
          .as("another seed").isNotEqualTo(a);
      assertThat(a).as("not the collection order").isNotEqualTo(range(N));
    }
  }

  @Test
  void blockShuffleKeepsBlocksInsideStoresAndPoolsTogether() {
    // Blocks of 7: store 0 (rows 0-59) gives blocks 0-6, ..., 56-59; store 1 (60-84) starts
    // its own. With one block per pool, the epoch is the blocks, each a whole block in turn.
    long[] a = rows(order("\"sampler\": {\"kind\": \"block_shuffle\", \"seed\": 1, "
        + "\"block_size\": 7, \"pool_blocks\": 1}"));
    Set<Set<Long>> blocks = new HashSet<>();
    for (int start = 0; start < 60; start += 7) {
      blocks.add(rangeSet(start, Math.min(60, start + 7)));
    }
    for (int start = 60; start < N; start += 7) {
      blocks.add(rangeSet(start, Math.min(N, start + 7)));
    }
    Set<Set<Long>> seen = new HashSet<>();
    for (int p = 0; p < a.length; ) {
      long first = a[p];
      Set<Long> block = blocks.stream().filter(b -> b.contains(first)).findFirst().orElseThrow();
      Set<Long> got = new HashSet<>();
      for (int k = 0; k < block.size(); k++) {
        got.add(a[p + k]);
      }
      assertThat(got).as("positions %d..", p).isEqualTo(block);
      seen.add(block);
      p += block.size();
    }
    assertThat(seen).isEqualTo(blocks);
  }

  @Test
  void weightedWithReplacementBalancesLabelsWithinAChiSquareBound() throws Exception {
    // weights 1/count of cell_type: every label (missing included, as lamindb counts "nan")
    // should be drawn about equally often.
    int draws = 60_000;
    long[] a = rows(order("\"sampler\": {\"kind\": \"weighted\", \"seed\": 9, \"num_samples\": "
        + draws + ", \"weights\": {\"obs_keys\": [\"cell_type\"]}}"));
    assertThat(a).hasSize(draws);
    List<String> labels = labels();
    Map<String, Integer> counts = new HashMap<>();
    for (long r : a) {
      counts.merge(labels.get((int) r), 1, Integer::sum);
    }
    Set<String> distinct = new HashSet<>(labels);
    assertThat(counts.keySet()).isEqualTo(distinct);
    double expected = (double) draws / distinct.size();
    double chi2 = 0;
    for (int c : counts.values()) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    // 99.9th percentile of chi-square with k - 1 degrees of freedom (k <= 6 labels here).
    double[] critical = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46};
    assertThat(chi2).as("chi-square over %s", counts).isLessThan(critical[distinct.size() - 1]);
  }

  @Test
  void weightedWithoutReplacementDrawsEachRowAtMostOnce() {
    long[] a = rows(order("\"sampler\": {\"kind\": \"weighted\", \"seed\": 9, \"num_samples\": "
        + "50, \"replacement\": false, \"weights\": {\"obs_keys\": \"cell_type\"}}"));
    assertThat(a).hasSize(50).doesNotHaveDuplicates();
    assertThat(Arrays.stream(a).allMatch(r -> r >= 0 && r < N)).isTrue();
    assertThatThrownBy(() -> order("\"sampler\": {\"kind\": \"weighted\", \"num_samples\": "
        + "86, \"replacement\": false, \"weights\": {\"obs_keys\": \"cell_type\"}}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("sampler.num_samples");
  }

  @Test
  void theSplitIsDisjointWholeAndStableWhenAStoreIsAppended() {
    String split = "\"split\": {\"holdout\": 0.3, \"seed\": 5, \"part\": \"%s\"}";
    long[] train = rows(order(split.formatted("train")));
    long[] holdout = rows(order(split.formatted("holdout")));
    Set<Long> all = new HashSet<>();
    Arrays.stream(train).forEach(all::add);
    Arrays.stream(holdout).forEach(all::add);
    assertThat(all).hasSize(N);
    assertThat(train.length + holdout.length).isEqualTo(N);
    assertThat(holdout.length).isBetween(10, 45);
    // The first two stores' rows keep their part with a third store appended.
    CollectionPlan longer = plan("\"paths\": [\"dense.h5ad\", \"f_same_var.zarr\", "
        + "\"csr.h5ad\"]", "");
    long[] holdoutLonger = rows(EpochOrders.build(longer, spec(split.formatted("holdout"))));
    assertThat(Arrays.stream(holdoutLonger).filter(r -> r < N).toArray()).isEqualTo(holdout);
    // With an obs_filter, a row is held out exactly when it is without the filter.
    String filter = "\"obs_filter\": {\"tissue\": \"lung\"}, ";
    CollectionPlan filtered = plan(PATHS, filter);
    long[] held = rows(EpochOrders.build(filtered, spec(split.formatted("holdout"))));
    Set<Long> heldWithoutFilter = new HashSet<>();
    Arrays.stream(holdout).forEach(heldWithoutFilter::add);
    var index = filtered.rows();
    List<Long> want = new java.util.ArrayList<>();
    for (long r = 0; r < filtered.nObs(); r++) {
      int s = index.storeOf(r);
      long unfiltered = (s == 0 ? 0 : 60) + index.localRow(s, r - index.offset(s));
      if (heldWithoutFilter.contains(unfiltered)) {
        want.add(r);
      }
    }
    assertThat(filtered.nObs()).isLessThan(N);
    assertThat(Arrays.stream(held).boxed().toList()).isEqualTo(want).isNotEmpty();
  }

  @Test
  void equalPartsDropOrPadToAMultipleOfTheCount() {
    EpochOrder drop = order("\"sampler\": {\"kind\": \"shuffle\"}, \"equal_parts\": "
        + "{\"count\": 4, \"remainder\": \"drop\"}");
    EpochOrder pad = order("\"sampler\": {\"kind\": \"shuffle\"}, \"equal_parts\": "
        + "{\"count\": 4, \"remainder\": \"pad\"}");
    EpochOrder whole = order("\"sampler\": {\"kind\": \"shuffle\"}");
    assertThat(drop.length()).isEqualTo(84);
    assertThat(pad.length()).isEqualTo(88);
    for (long p = 0; p < 88; p++) {
      assertThat(pad.row(p)).isEqualTo(whole.row(p % N));
    }
    for (long p = 0; p < 84; p++) {
      assertThat(drop.row(p)).isEqualTo(whole.row(p));
    }
  }

  @Test
  void badSamplersAreRefusedNamingTheKey() {
    String[][] cases = {
        {"{\"kind\": \"random\"}", "sampler.kind"},
        {"{\"kind\": \"block_shuffle\", \"block_size\": -1}", "sampler.block_size"},
        {"{\"kind\": \"block_shuffle\", \"block_size\": 10000000}", "sampler.block_size"},
        {"{\"kind\": \"shuffle\", \"block_size\": 4}", "unknown key \"block_size\""},
        {"{\"kind\": \"weighted\", \"num_samples\": 0, \"weights\": {\"obs_keys\": \"x\"}}",
            "sampler.num_samples"},
        {"{\"kind\": \"weighted\", \"num_samples\": 1152921504606846977, \"weights\": "
            + "{\"obs_keys\": \"x\"}}", "sampler.num_samples"},
        {"{\"kind\": \"weighted\"}", "sampler.weights"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> spec("\"sampler\": " + c[0])).as(c[0])
          .isInstanceOf(RequestException.class).hasMessageContaining(c[1]);
    }
    assertThatThrownBy(() -> spec("\"split\": {\"holdout\": 1.5}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("split.holdout");
    assertThatThrownBy(() -> spec("\"split\": {\"holdout\": 0}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("split.holdout");
    assertThatThrownBy(() -> order("\"sampler\": {\"kind\": \"weighted\", \"weights\": "
        + "{\"obs_keys\": \"no_such_key\"}}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("no_such_key");
    assertThatThrownBy(() -> spec("\"equal_parts\": {\"count\": 2}, \"rows_per_endpoint\": 5"))
        .isInstanceOf(RequestException.class).hasMessageContaining("equal_parts");
  }

  // ---------------------------------------------------------------- helpers

  private List<String> labels() throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (String store : List.of("dense.h5ad", "f_same_var.zarr")) {
      for (var v : Fixtures.expected(store).at("/obs/columns/cell_type/values")) {
        out.add(v.isNull() ? "nan" : v.asText());
      }
    }
    return out;
  }

  private EpochOrder order(String keys) {
    return new EpochOrders().of(plan(""), spec(keys));
  }

  private io.annflight.schema.EpochSpec spec(String keys) {
    return request(PATHS, keys.isEmpty() ? "" : keys + ", ").epoch();
  }

  private CollectionPlan plan(String extra) {
    return plan(PATHS, extra);
  }

  private CollectionPlan plan(String paths, String extra) {
    CollectionRequest r = request(paths, extra);
    return engine.plan(r, r.paths().stream().map(p -> Fixtures.dir().resolve(p)).toList());
  }

  private static CollectionRequest request(String paths, String extra) {
    String json = "{" + extra + paths + "}";
    return RequestJson.parse(RequestJson.readObject(json.getBytes(StandardCharsets.UTF_8),
        "test"), n -> null, Set.of());
  }

  private static long[] rows(EpochOrder o) {
    long[] out = new long[(int) o.length()];
    for (int p = 0; p < out.length; p++) {
      out[p] = o.row(p);
    }
    return out;
  }

  private static long[] sorted(long[] a) {
    long[] s = a.clone();
    Arrays.sort(s);
    return s;
  }

  private static long[] range(int n) {
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private static Set<Long> rangeSet(long from, long to) {
    Set<Long> s = new HashSet<>();
    for (long i = from; i < to; i++) {
      s.add(i);
    }
    return s;
  }
}
