package io.annflight.flight;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.schema.RequestJson;
import io.annflight.synthetic.H5adWriter;
import io.annflight.synthetic.SyntheticAnnData;
import io.annflight.synthetic.ZarrWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Small stores the server writes for its own warm-up, so that it warms the hot paths whatever
 * it serves, collections or only a data root. They look like what anndata writes (X, obs
 * {@code cell_type}, obsm {@code X_pca}; h5ad CSR arrays chunked, int32 {@code indptr}), and
 * are read as clients read a data root: by {@code paths} requests, with obs and obsm keys, so
 * request resolution, store opening and every column filler are warm too. Two sets, {@code
 * dense} and {@code csr}, each an h5ad file and a Zarr store, in a temporary directory (the
 * warm-up's data root) deleted on {@link #close()}.
 */
final class WarmupCollections implements AutoCloseable {
  // Small, so they are written in well under a second even before the JIT has compiled the
  // writers: the warm-up's budget goes to streams, each of which runs every hot path. The CSR
  // stores hold more rows (they are about 20x smaller a row), so that a stream spans batches.
  static final int DENSE_ROWS = 1_024;
  static final int CSR_ROWS = 4_096;
  static final int GENES = 1_000;
  static final int NON_ZEROS_PER_ROW = 50;
  static final int OBSM_COLUMNS = 50;
  /**
   * Rows of one warm-up stream of these stores: a few dozen batches, so that a loaded machine
   * still streams every variant in the budget.
   */
  static final long ROWS_PER_STREAM = 4_096;
  static final String OBS_KEY = "cell_type";

  private final Path dir;
  private final List<ObjectNode> requests;

  private WarmupCollections(Path dir, List<ObjectNode> requests) {
    this.dir = dir;
    this.requests = requests;
  }

  /** Writes the stores under a new temporary directory. */
  static WarmupCollections create() {
    Path dir;
    try {
      dir = Files.createTempDirectory("annflight-warm-up");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the warm-up's directory", e);
    }
    try {
      return new WarmupCollections(dir, List.of(write(dir, "dense", DENSE_ROWS, false),
          write(dir, "csr", CSR_ROWS, true)));
    } catch (RuntimeException e) {
      delete(dir);
      throw e;
    }
  }

  /** Writes one set of stores; returns the request that reads all of them. */
  private static ObjectNode write(Path dir, String name, int rows, boolean csr) {
    SyntheticAnnData a = new SyntheticAnnData(rows, GENES, NON_ZEROS_PER_ROW, csr, OBSM_COLUMNS);
    String h5ad = name + ".h5ad";
    String zarr = name + ".zarr";
    H5adWriter.write(a, dir.resolve(h5ad));
    ZarrWriter.write(a, dir.resolve(zarr));
    ObjectNode r = RequestJson.MAPPER.createObjectNode();
    r.putArray("paths").add(h5ad).add(zarr);
    r.putArray("obs_keys").add(OBS_KEY);
    r.putArray("obsm_keys").add(SyntheticAnnData.OBSM_KEY);
    return r;
  }

  /** Requests by {@code paths} (relative to {@link #directory()}), one a set of stores. */
  List<ObjectNode> requests() {
    return requests.stream().map(ObjectNode::deepCopy).toList();
  }

  /** Gene names a request can project onto: every fourth gene of the stores. */
  static List<String> someGenes() {
    String[] all = new SyntheticAnnData(1, GENES, 0, false).varNames();
    return IntStream.range(0, GENES / 4).mapToObj(j -> all[4 * j]).toList();
  }

  /** Where the stores are: the data root of the warm-up's requests. */
  Path directory() {
    return dir;
  }

  @Override
  public void close() {
    delete(dir);
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the warm-up's directory " + dir, e);
    }
  }
}
