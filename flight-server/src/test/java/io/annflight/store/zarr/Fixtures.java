package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.annflight.store.RowBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The committed fixture stores and the values anndata/zarr read from them (expected JSON). */
final class Fixtures {

  static final String[] ZARR_STORES = {
    "dense.zarr", "csr.zarr", "csc.zarr", "empty.zarr", "legacy.zarr", "dtypes.zarr", "f_same_var.zarr"
  };

  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path dir() {
    try {
      return Path.of(Fixtures.class.getResource("/fixtures").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path store(String name) {
    return dir().resolve(name);
  }

  static JsonNode expected(String name) {
    try {
      return JSON.readTree(dir().resolve(name + ".expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A block as dense doubles, row-major (sparse blocks are scattered; absent entries are 0). */
  static double[][] toDense(RowBlock block) {
    double[][] out = new double[block.nRows()][block.nCols()];
    if (block instanceof RowBlock.Dense d) {
      for (int r = 0; r < d.nRows(); r++) {
        for (int c = 0; c < d.nCols(); c++) {
          out[r][c] = d.values().getDouble(r * d.nCols() + c);
        }
      }
    } else if (block instanceof RowBlock.Sparse s) {
      for (int r = 0; r < s.nRows(); r++) {
        for (int e = s.rowOffsets()[r]; e < s.rowOffsets()[r + 1]; e++) {
          out[r][s.columns()[e]] += s.values().getDouble(e);
        }
      }
    }
    return out;
  }

  /**
   * Asserts equal rows; NaN equals NaN (as numpy's array_equal with equal_nan), which AssertJ's
   * deep equality for doubles does not do.
   */
  static void assertRows(double[][] actual, double[][] expected, String description) {
    if (!java.util.Arrays.deepEquals(actual, expected)) {
      org.assertj.core.api.Assertions.assertThat(java.util.Arrays.deepToString(actual))
          .as(description)
          .isEqualTo(java.util.Arrays.deepToString(expected));
    }
  }

  /** Expected rows from the JSON "dense" list; null (NaN in anndata) becomes NaN. */
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
}
