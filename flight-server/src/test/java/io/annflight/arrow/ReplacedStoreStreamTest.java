package io.annflight.arrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.ElementType;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RowSelection;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.StoreChangedException;
import io.annflight.store.StoreGeneration;
import io.annflight.testing.Fixtures;
import java.lang.reflect.InvocationTargetException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream leased on a store before it is replaced: a renamed .h5ad is read to its end from the
 * opened file (anndata's values of the old file); a file or a Zarr store rewritten in place
 * (same bytes even, a later modification time) stops the stream at its next batch with an
 * error naming the store, since its later batches could mix two files. New plans read the new
 * store. dense.h5ad: 60 x 24 float32, gzip chunks of 16 x 8; batches of 10 rows.
 */
class ReplacedStoreStreamTest {
  private static final int ROWS = 10;

  @TempDir
  Path dir;

  @Test
  void aStreamOnARenamedH5adFinishesWithTheOldFilesValues() throws Exception {
    double[][] old = expected("dense.h5ad");
    Path p = Files.copy(Fixtures.store("dense.h5ad"), dir.resolve("s.h5ad"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan before = plan(catalog, "s.h5ad");
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          CollectionPlan.Lease lease = new CollectionEngine(catalog).lease(before.request(),
              java.util.List.of(p));
          BatchStream s = BatchStream.open(lease.plan(), new RowSelection.Range(0, 60), a,
              ROWS)) {
        assertThat(s.next()).isTrue();
        assertRows(s, old, 0);
        Path other = Files.copy(Fixtures.store("f_same_var.h5ad"), dir.resolve("new.h5ad"));
        Files.move(other, p, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
        // A new request plans on the new file (25 rows, not 60).
        assertThat(plan(catalog, "s.h5ad").nObs()).isEqualTo(25);
        int first = ROWS;
        for (; s.next(); first += ROWS) {
          assertRows(s, old, first);
        }
        assertThat(first).isEqualTo(60);
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void aStreamOnAnH5adRewrittenInPlaceStopsNamingIt() throws Exception {
    Path p = Files.copy(Fixtures.store("dense.h5ad"), dir.resolve("s.h5ad"));
    stopsAfterRewrite("s.h5ad", p, expected("dense.h5ad"));
  }

  @Test
  void aStreamOnAZarrStoreRewrittenInPlaceStopsNamingIt() throws Exception {
    Path store = dir.resolve("s.zarr");
    try (Stream<Path> all = Files.walk(Fixtures.store("dense.zarr"))) {
      for (Path src : all.sorted(Comparator.naturalOrder()).toList()) {
        Path dst = store.resolve(Fixtures.store("dense.zarr").relativize(src).toString());
        if (Files.isDirectory(src)) {
          Files.createDirectories(dst);
        } else {
          Files.copy(src, dst);
        }
      }
    }
    // A rewrite writes the root metadata first (zarr and anndata do); its directory is untouched.
    stopsAfterRewrite("s.zarr", store.resolve(".zattrs"), expected("dense.zarr"));
  }

  /** Streams {@code name}, rewrites {@code file} in place after the first batch, reads on. */
  private void stopsAfterRewrite(String name, Path file, double[][] want) throws Exception {
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, name);
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          CollectionPlan.Lease lease = new CollectionEngine(catalog).lease(plan.request(),
              java.util.List.of(dir.resolve(name)));
          BatchStream s = BatchStream.open(lease.plan(), new RowSelection.Range(0, 60), a,
              ROWS)) {
        assertThat(s.next()).isTrue();
        assertRows(s, want, 0);
        FileTime before = Files.getLastModifiedTime(file);
        Files.write(file, Files.readAllBytes(file)); // same inode, same size
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 2_000));
        assertThatThrownBy(s::next).isInstanceOf(StoreChangedException.class)
            .hasMessageContaining(name).hasMessageContaining("rewritten in place");
        // A new request opens the store again and reads it.
        CollectionPlan again = plan(catalog, name);
        assertThat(again.storeHandles().get(0)).isNotSameAs(plan.storeHandles().get(0));
        try (BatchStream fresh = BatchStream.open(again, new RowSelection.Range(0, 60), a,
            ROWS)) {
          for (int first = 0; fresh.next(); first += ROWS) {
            assertRows(fresh, want, first);
          }
        }
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void aFaultOfAMappedCopyInATruncatedFileStopsTheStreamNamingIt() throws Exception {
    // A copy out of a chunk's mapped view that a truncation took pages from faults; the JVM
    // raises that as an InternalError, somewhat later. Here the store's reads raise it
    // themselves once the file is cut, so the stream's handling is tested deterministically.
    Path p = Files.copy(Fixtures.store("dense.h5ad"), dir.resolve("s.h5ad"));
    AtomicBoolean cut = new AtomicBoolean();
    try (StoreCatalog catalog = new StoreCatalog(path -> new FaultingStore(
            AnnDataStores.open(path), cut));
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, "s.h5ad");
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          BatchStream s = BatchStream.open(plan, new RowSelection.Range(0, 60), a, ROWS)) {
        assertThat(s.next()).isTrue();
        assertRows(s, expected("dense.h5ad"), 0);
        try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE)) {
          w.truncate(Files.size(p) / 10);
        }
        cut.set(true);
        assertThatThrownBy(s::next).isInstanceOf(StoreChangedException.class)
            .hasMessageContaining("s.h5ad").hasMessageContaining("truncated")
            .satisfies(e -> assertThat(e.getSuppressed()).hasAtLeastOneElementOfType(
                InternalError.class));
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void aFaultRaisedAfterItsBatchNamesTheTruncatedStore() throws Exception {
    // The JVM may raise a mapped copy's fault after the batch was filled, while it is sent;
    // the stream names the store that changed, and only a fault is taken for a change.
    Path p = Files.copy(Fixtures.store("dense.h5ad"), dir.resolve("s.h5ad"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open);
        RootAllocator allocator = new RootAllocator()) {
      CollectionPlan plan = plan(catalog, "s.h5ad");
      try (BufferAllocator a = allocator.newChildAllocator("stream", 0, Long.MAX_VALUE);
          BatchStream s = BatchStream.open(plan, new RowSelection.Range(0, 60), a, ROWS)) {
        assertThat(s.next()).isTrue();
        Error late = new Error(new InvocationTargetException(
            new InternalError("a fault occurred in an unsafe memory access operation")));
        assertThat(s.faulted(late)).isSameAs(late); // nothing changed: not the store's
        try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE)) {
          w.truncate(Files.size(p) / 10);
        }
        IllegalStateException other = new IllegalStateException("not a fault");
        assertThat(s.faulted(other)).isSameAs(other);
        assertThat(s.faulted(late)).isInstanceOf(StoreChangedException.class)
            .hasMessageContaining("s.h5ad").hasMessageContaining("truncated")
            .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(late));
      }
      assertThat(allocator.getAllocatedMemory()).isZero();
    }
  }

  /** A store whose matrix reads raise the JVM's fault of an unsafe access once {@code cut}. */
  private record FaultingStore(AnnDataStore store, AtomicBoolean cut) implements AnnDataStore {
    @Override public Path path() {
      return store.path();
    }

    @Override public StoreGeneration generation() {
      return store.generation();
    }

    @Override public String format() {
      return store.format();
    }

    @Override public long nObs() {
      return store.nObs();
    }

    @Override public DataFrameReader obs() {
      return store.obs();
    }

    @Override public DataFrameReader var() {
      return store.var();
    }

    @Override public Optional<DataFrameReader> rawVar() {
      return store.rawVar();
    }

    @Override public List<String> layerNames() {
      return store.layerNames();
    }

    @Override public List<String> obsmNames() {
      return store.obsmNames();
    }

    @Override public boolean hasRaw() {
      return store.hasRaw();
    }

    @Override public boolean hasX() {
      return store.hasX();
    }

    @Override public List<String> modalities() {
      return store.modalities();
    }

    @Override public String elementKind(String elementPath) {
      return store.elementKind(elementPath);
    }

    @Override public Optional<MatrixReader> matrix(String path) {
      return store.matrix(path).map(m -> new FaultingMatrix(m, cut));
    }

    @Override public void close() {
      store.close();
    }
  }

  private record FaultingMatrix(MatrixReader m, AtomicBoolean cut) implements MatrixReader {
    @Override public String elementPath() {
      return m.elementPath();
    }

    @Override public long nRows() {
      return m.nRows();
    }

    @Override public long nCols() {
      return m.nCols();
    }

    @Override public ElementType elementType() {
      return m.elementType();
    }

    @Override public MatrixLayout layout() {
      return m.layout();
    }

    @Override public RowBlock readRows(long start, long stop) {
      fault();
      return m.readRows(start, stop);
    }

    @Override public RowBlock readRows(long[] sortedRows) {
      fault();
      return m.readRows(sortedRows);
    }

    private void fault() {
      if (cut.get()) {
        throw new InternalError("a fault occurred in an unsafe memory access operation");
      }
    }
  }

  private static double[][] expected(String store) {
    return Fixtures.expectedDense(Fixtures.expected(store).at("/matrices/X"));
  }

  private static void assertRows(BatchStream s, double[][] want, int first) {
    BaseFixedWidthVector child = (BaseFixedWidthVector) ((FixedSizeListVector) s.root()
        .getVector("X")).getDataVector();
    int width = want[0].length;
    for (int i = 0; i < s.root().getRowCount(); i++) {
      for (int j = 0; j < width; j++) {
        assertThat((double) child.getDataBuffer().getFloat((i * (long) width + j) * 4))
            .as("row %d column %d", first + i, j).isEqualTo(want[first + i][j]);
      }
    }
  }

  private CollectionPlan plan(StoreCatalog catalog, String path) {
    CollectionRequest r = RequestJson.parse(RequestJson.readObject(("{\"paths\": [\"" + path
        + "\"], \"obs_keys\": []}").getBytes(StandardCharsets.UTF_8), "test"), n -> null,
        Set.of());
    return new CollectionEngine(catalog).plan(r, java.util.List.of(dir.resolve(path)));
  }
}
