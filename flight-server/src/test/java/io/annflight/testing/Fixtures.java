package io.annflight.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.annflight.store.RowBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import org.assertj.core.api.Assertions;

/**
 * The project's test fixtures (written with anndata by tools/fixtures/make_fixtures.py), the
 * values anndata reads from them, and small reference conversions for assertions.
 */
public final class Fixtures {
  public static final String[] ZARR_STORES = {
    "dense.zarr", "csr.zarr", "csc.zarr", "empty.zarr", "legacy.zarr", "dtypes.zarr",
    "f_same_var.zarr"
  };

  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  /** The directory holding the fixture stores (target/test-classes/fixtures). */
  public static Path dir() {
    return resourceDir("fixtures");
  }

  /**
   * The directory of the layouts anndata 0.8 cannot write (Zarr v3, pre-0.7 h5ad, MuData, HDF5
   * string filters), written by tools/fixtures/make_format_fixtures.py.
   */
  public static Path formats() {
    return resourceDir("formats");
  }

  /** The expected values of a formats fixture ({@code <name>.expected.json}). */
  public static JsonNode formatExpected(String name) {
    try {
      return JSON.readTree(formats().resolve(name + ".expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The directory holding the engine parity cases (tools/fixtures/expected_engine.py). */
  public static Path engineCases() {
    return resourceDir("engine-cases");
  }

  public static Path store(String name) {
    return dir().resolve(name);
  }

  /** The values anndata read from a fixture store ({@code <name>.expected.json}). */
  public static JsonNode expected(String name) {
    try {
      return JSON.readTree(store(name + ".expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Expected rows from a matrix's JSON "dense" list; null (NaN in anndata) becomes NaN. */
  public static double[][] expectedDense(JsonNode matrix) {
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

  /** A block as dense doubles, row-major (sparse entries scattered, absent entries 0). */
  public static double[][] toDense(RowBlock block) {
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
  public static void assertRows(double[][] actual, double[][] expected, String description) {
    if (!Arrays.deepEquals(actual, expected)) {
      Assertions.assertThat(Arrays.deepToString(actual)).as(description)
          .isEqualTo(Arrays.deepToString(expected));
    }
  }

  private static Path resourceDir(String name) {
    URL url = Fixtures.class.getClassLoader().getResource(name + "/README.md");
    if (url == null) {
      throw new IllegalStateException("test resource " + name + "/README.md is missing");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Copies a file, or a directory with everything below it (a Zarr store). */
  public static void copyTree(Path from, Path to) throws IOException {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (java.nio.file.Files.isDirectory(p)) {
          java.nio.file.Files.createDirectories(target);
        } else {
          java.nio.file.Files.copy(p, target);
        }
      }
    }
  }
}
