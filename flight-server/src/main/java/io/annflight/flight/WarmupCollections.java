package io.annflight.flight;

import io.annflight.schema.CollectionRequest;
import io.annflight.synthetic.H5adWriter;
import io.annflight.synthetic.SyntheticAnnData;
import io.annflight.synthetic.ZarrWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Small stores the server writes for its own warm-up, so that it warms the hot paths (dense and
 * CSR, h5ad and Zarr) whatever it serves, collections or only a data root: two collections,
 * {@code dense} (a dense h5ad and a dense Zarr store) and {@code csr} (the same as CSR), in a
 * temporary directory deleted on {@link #close()}.
 */
final class WarmupCollections implements AutoCloseable {
  // Small, so they are written in well under a second even before the JIT has compiled the
  // writers: the warm-up's budget goes to streams, each of which runs every hot path.
  static final int ROWS = 1_024;
  static final int GENES = 1_000;
  static final int NON_ZEROS_PER_ROW = 50;

  private final Path dir;
  private final CollectionRegistry registry;

  private WarmupCollections(Path dir, CollectionRegistry registry) {
    this.dir = dir;
    this.registry = registry;
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
      return new WarmupCollections(dir, new CollectionRegistry(List.of(
          collection(dir, "dense", false), collection(dir, "csr", true))));
    } catch (RuntimeException e) {
      delete(dir);
      throw e;
    }
  }

  private static ConfiguredCollection collection(Path dir, String name, boolean csr) {
    SyntheticAnnData a = new SyntheticAnnData(ROWS, GENES, NON_ZEROS_PER_ROW, csr);
    Path h5ad = dir.resolve(name + ".h5ad");
    Path zarr = dir.resolve(name + ".zarr");
    H5adWriter.write(a, h5ad);
    ZarrWriter.write(a, zarr);
    List<String> paths = List.of(h5ad.toString(), zarr.toString());
    CollectionRequest r = CollectionRequest.ofPaths(paths);
    r = new CollectionRequest(name, paths, r.layersKeys(), List.of("cell_type"), r.obsmKeys(),
        r.obsFilter(), r.join(), r.encodeLabels(), r.unknownLabel(), r.dtype(),
        r.rowsPerEndpoint(), r.rowsPerBatch(), r.bytesPerBatch(), r.compression(), r.epoch(),
        r.returnIndex(), r.matrix());
    return new ConfiguredCollection(name, r, List.of(h5ad, zarr));
  }

  CollectionRegistry registry() {
    return registry;
  }

  /** Gene names a request can project onto: every fourth gene of the stores. */
  static List<String> someGenes() {
    String[] all = new SyntheticAnnData(1, GENES, 0, false).varNames();
    return java.util.stream.IntStream.range(0, GENES / 4).mapToObj(j -> all[4 * j]).toList();
  }

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
