package io.annflight.store.h5ad;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Test fixtures (written by tools/fixtures/make_fixtures.py) and small helpers over them. */
final class Fixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path path(String name) {
    try {
      var url = Fixtures.class.getResource("/fixtures/" + name);
      if (url == null) {
        throw new IllegalStateException("fixture " + name + " is not on the test classpath");
      }
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The expected values anndata/h5py read from a fixture. */
  static JsonNode expected(String name) {
    try {
      return JSON.readTree(path(name + ".expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Expected dense rows of a matrix; JSON null (NaN) becomes NaN. */
  static double[][] expectedDense(JsonNode matrix) {
    JsonNode rows = matrix.get("dense");
    int nCols = matrix.get("shape").get(1).asInt();
    double[][] out = new double[rows.size()][nCols];
    for (int r = 0; r < rows.size(); r++) {
      for (int c = 0; c < nCols; c++) {
        JsonNode v = rows.get(r).get(c);
        out[r][c] = v.isNull() ? Double.NaN : v.asDouble();
      }
    }
    return out;
  }

  /** Densifies a block into doubles (test-side reference conversion). */
  static double[][] densify(RowBlock block) {
    double[][] out = new double[block.nRows()][block.nCols()];
    if (block instanceof RowBlock.Dense d) {
      TypedBuffer v = d.values();
      for (int r = 0; r < d.nRows(); r++) {
        for (int c = 0; c < d.nCols(); c++) {
          out[r][c] = v.getDouble(r * d.nCols() + c);
        }
      }
    } else if (block instanceof RowBlock.Sparse s) {
      for (int r = 0; r < s.nRows(); r++) {
        for (int k = s.rowOffsets()[r]; k < s.rowOffsets()[r + 1]; k++) {
          out[r][s.columns()[k]] += s.values().getDouble(k);
        }
      }
    }
    return out;
  }
}
