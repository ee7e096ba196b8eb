package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestJson;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MatrixReader;
import io.annflight.store.ParallelTasks;
import io.annflight.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Plans that differ in keys other than the vocabulary read one projection, so what one cached
 * serves the others; another vocabulary is another reader, reading every column none, and
 * another engine (its own cache) its own.
 */
class ProjectionSharingTest {
  private static CollectionRequest request(String json) {
    return RequestJson.parse(RequestJson.readObject(json.getBytes(StandardCharsets.UTF_8),
        "test"), n -> null, Set.of());
  }

  private static MatrixReader xReader(CollectionEngine engine, String json) {
    CollectionRequest r = request(json);
    List<Path> paths = List.of(Fixtures.dir().resolve("csr.h5ad"));
    return engine.plan(r, paths).layers().get(0).readers().get(0).orElseThrow();
  }

  @Test
  void plansWithTheSameVocabularyShareOneProjection() {
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open)) {
      CollectionEngine engine = new CollectionEngine(catalog, 1 << 24, ParallelTasks.SERIAL);
      String genes = "\"var_names\": [\"G001\", \"G010\", \"G020\"]";
      MatrixReader a = xReader(engine, "{\"paths\": [\"x\"], \"obs_keys\": [], " + genes + "}");
      MatrixReader b = xReader(engine, "{\"paths\": [\"x\"], \"obs_keys\": [\"cell_type\"],"
          + " \"matrix_format\": \"csr\", " + genes + "}");
      MatrixReader other = xReader(engine, "{\"paths\": [\"x\"], \"var_names\": [\"G002\"]}");
      MatrixReader whole = xReader(engine, "{\"paths\": [\"x\"]}");
      assertThat(a).isInstanceOf(ProjectedMatrix.class).isSameAs(b);
      assertThat(other).isInstanceOf(ProjectedMatrix.class).isNotSameAs(a);
      assertThat(whole).isNotInstanceOf(ProjectedMatrix.class);
      assertThat(a.nCols()).isEqualTo(3);
      // Another engine over the same catalogue keeps its rows in its own cache.
      CollectionEngine second = new CollectionEngine(catalog, 1 << 24, ParallelTasks.SERIAL);
      MatrixReader c = xReader(second, "{\"paths\": [\"x\"], \"obs_keys\": [], " + genes + "}");
      assertThat(c).isInstanceOf(ProjectedMatrix.class).isNotSameAs(a);
      assertThat(xReader(second, "{\"paths\": [\"x\"], " + genes + "}")).isSameAs(c);
    }
  }
}
