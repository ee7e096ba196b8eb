package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.arrow.BatchStream;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.JoinMode;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStores;
import io.annflight.store.StoreNotFoundException;
import io.annflight.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad requests fail with a message naming what is wrong, and leak nothing. */
class EngineRequestErrorsTest {
  private static StoreCatalog catalog;
  private static CollectionEngine engine;

  @BeforeAll
  static void open() {
    catalog = new StoreCatalog(AnnDataStores::open);
    engine = new CollectionEngine(catalog);
  }

  @AfterAll
  static void close() {
    catalog.close();
  }

  private static CollectionPlan plan(String json) {
    CollectionRequest r = RequestJson.parse(
        RequestJson.readObject(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), "test"),
        n -> {
          throw new RequestException("unknown collection " + n);
        }, Set.of());
    return engine.plan(r, r.paths().stream().map(p -> Fixtures.dir().resolve(p)).toList());
  }

  @Test
  void rangeBeyondTheCollectionNamesTheRowCount() {
    CollectionPlan p = plan("{\"paths\": [\"dense.h5ad\"]}");
    try (RootAllocator a = new RootAllocator()) {
      assertThatThrownBy(() -> BatchStream.open(p, new RowSelection.Range(0, 61), a, 10))
          .isInstanceOf(RequestException.class)
          .hasMessageContaining("[0, 61)").hasMessageContaining("60 rows");
      assertThatThrownBy(() -> BatchStream.open(p,
          new RowSelection.Indices(new long[] {3, 60}), a, 10))
          .isInstanceOf(RequestException.class)
          .hasMessageContaining("index 60 at position 1");
      assertThat(a.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void collidingColumnNamesAreRefused() {
    assertThatThrownBy(() -> plan(
        "{\"paths\": [\"dtypes.h5ad\"], \"layers_keys\": [\"i8\"], \"obs_keys\": [\"i8\"]}"))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("\"i8\"");
  }

  @Test
  void duplicateKeysAreRefused() {
    assertThatThrownBy(() -> plan("{\"paths\": [\"dense.h5ad\"], \"obs_keys\": "
        + "[\"tissue\", \"tissue\"]}"))
        .isInstanceOf(RequestException.class).hasMessageContaining("twice");
  }

  @Test
  void missingStoreIsNotFound() {
    assertThatThrownBy(() -> plan("{\"paths\": [\"dense.h5ad\", \"nope.h5ad\"]}"))
        .isInstanceOf(StoreNotFoundException.class).hasMessageContaining("nope.h5ad");
  }

  @Test
  void innerJoinWithoutSharedVariablesNamesTheStores() {
    assertThatThrownBy(() -> VarJoin.compute(JoinMode.INNER,
        List.of(List.of("a", "b"), List.of("c")), List.of("one.h5ad", "two.zarr")))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("one.h5ad").hasMessageContaining("two.zarr")
        .hasMessageContaining("share no variable");
  }

  @Test
  void joinOrdersFollowPandas() {
    VarJoin inner = VarJoin.compute(JoinMode.INNER,
        List.of(List.of("c", "a", "b"), List.of("b", "c", "d")), List.of("x", "y"));
    assertThat(inner.joint()).containsExactly("c", "b");
    assertThat(inner.storeToJoint(0)).containsExactly(0, -1, 1);
    assertThat(inner.storeToJoint(1)).containsExactly(1, 0, -1);
    VarJoin outer = VarJoin.compute(JoinMode.OUTER,
        List.of(List.of("c", "a"), List.of("b", "c", "d")), List.of("x", "y"));
    assertThat(outer.joint()).containsExactly("a", "b", "c", "d");
    assertThat(outer.storeToJoint(0)).containsExactly(2, 0);
    VarJoin same = VarJoin.compute(JoinMode.OUTER,
        List.of(List.of("z", "a"), List.of("z", "a")), List.of("x", "y"));
    assertThat(same.effective()).isEqualTo(JoinMode.NONE);
    assertThat(same.joint()).containsExactly("z", "a");
    assertThat(same.storeToJoint(1)).isNull();
  }

  @Test
  void unknownCollectionKeyIsRefusedByTheParser() {
    assertThatThrownBy(() -> plan("{\"paths\": [\"dense.h5ad\"], \"obs_key\": [\"x\"]}"))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("unknown request key \"obs_key\"");
  }

  @Test
  void plansAreCachedPerRequest() {
    CollectionPlan a = plan("{\"paths\": [\"dense.h5ad\"], \"obs_keys\": [\"tissue\"]}");
    CollectionPlan b = plan("{\"paths\": [\"dense.h5ad\"], \"obs_keys\": [\"tissue\"], "
        + "\"rows_per_batch\": 5}");
    assertThat(b).isSameAs(a);
    Path p = Fixtures.dir().resolve("dense.h5ad");
    assertThat(catalog.get(p)).isSameAs(catalog.get(p.getParent().resolve("./dense.h5ad")));
  }
}
