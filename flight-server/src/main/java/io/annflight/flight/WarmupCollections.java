package io.annflight.flight;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.schema.RequestJson;
import io.annflight.synthetic.H5adWriter;
import io.annflight.synthetic.SyntheticAnnData;
import io.annflight.synthetic.ZarrWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * warm-up's data root) deleted on {@link #close()}. The {@code csr} set also holds, first, an
 * h5ad file anndata itself wrote ({@value #ANNDATA_CSR}, shipped in the jar): h5py's layout
 * (version-1 B-trees over the chunks, variable-length strings, symbol-table groups) is one
 * that jhdf's writer cannot produce, and the files clients ask for are written that way.
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
  /** Names each h5ad file is read under in turn (see {@link #requests(int)}). */
  static final int OPENINGS = 8;
  /**
   * The file anndata wrote (tools/fixtures/make_warmup_store.py): CSR, over {@link #GENES}
   * genes named as these stores' are, with obs {@value #OBS_KEY} and obsm {@code X_pca}.
   */
  static final String ANNDATA_CSR = "anndata-csr.h5ad";
  private static final String RESOURCE_DIR = "warmup/";

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
      ObjectNode csr = write(dir, "csr", CSR_ROWS, true);
      copyResource(ANNDATA_CSR, dir);
      ((ArrayNode) csr.get("paths")).insert(0, ANNDATA_CSR); // first: in-order streams read it
      return new WarmupCollections(dir, List.of(write(dir, "dense", DENSE_ROWS, false), csr));
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

  private static void copyResource(String name, Path dir) {
    try (InputStream in = WarmupCollections.class.getClassLoader()
        .getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE_DIR + name
            + " is missing from the jar");
      }
      Files.copy(in, dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the warm-up's " + name + " to " + dir, e);
    }
  }

  /** Requests by {@code paths} (relative to {@link #directory()}), one a set of stores. */
  List<ObjectNode> requests() {
    return requests(0);
  }

  /**
   * The requests of warm-up pass {@code pass}: from pass 1 on (up to {@value #OPENINGS}
   * passes), their {@code .h5ad} files under other names (hard links), so that the server opens
   * them again, plans the request again and reads their chunks anew, as the first epoch of a
   * client's {@code paths} request does; where the file system has no hard links, the same
   * names.
   */
  List<ObjectNode> requests(int pass) {
    int opening = pass % OPENINGS;
    List<ObjectNode> out = new ArrayList<>();
    for (ObjectNode r : requests) {
      ObjectNode copy = r.deepCopy();
      if (opening > 0) {
        ArrayNode paths = copy.putArray("paths");
        r.get("paths").forEach(p -> paths.add(linked(p.asText(), opening)));
      }
      out.add(copy);
    }
    return out;
  }

  /** {@code name} for opening {@code opening}: a hard link to an h5ad file, made once. */
  private String linked(String name, int opening) {
    if (!name.endsWith(".h5ad")) {
      return name; // a Zarr store is a directory: no hard link
    }
    String other = "opening" + opening + "-" + name;
    Path link = dir.resolve(other);
    try {
      if (!Files.exists(link)) {
        Files.createLink(link, dir.resolve(name));
      }
      return other;
    } catch (IOException | UnsupportedOperationException e) {
      return name;
    }
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
