package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.source.ObjectStore;
import io.annflight.store.source.ObjectStoreMetrics;
import io.annflight.store.source.ObjectStoreSettings;
import io.annflight.synthetic.H5adWriter;
import io.annflight.synthetic.SyntheticAnnData;
import io.annflight.synthetic.ZarrWriter;
import io.annflight.testing.FaultProxy;
import io.annflight.testing.FlightTsv;
import io.annflight.testing.Fixtures;
import io.annflight.testing.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Read-ahead along an epoch's plan: the rows of a stream's next batches are hinted to the
 * readers of stores in a bucket, which fetch their byte ranges (an .h5ad object's ranges, a
 * Zarr store's chunk objects) before the batch is read. Counted through the block cache's
 * metrics and the relay's log, never by time.
 */
class PlannedReadAheadTest {
  private static final Duration LIMIT = Duration.ofSeconds(90);
  private static final String[] STORES = {"csr.h5ad", "csr.zarr", "dense.h5ad", "dense.zarr",
      "chunked.h5ad"};

  private static S3ProxyServer s3;
  @TempDir
  static Path tmp;
  private static Path local;

  private FaultProxy proxy;
  private ObjectStore objects;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start();
    s3.createBucket("cells");
    local = Files.createDirectories(tmp.resolve("local"));
    SyntheticAnnData csr = new SyntheticAnnData(3000, 120, 12, true);
    SyntheticAnnData dense = new SyntheticAnnData(4000, 40, 12, false);
    H5adWriter.write(csr, local.resolve("csr.h5ad"));
    ZarrWriter.write(csr, local.resolve("csr.zarr"));
    rechunk(local.resolve("csr.zarr/X/data"), 4);
    rechunk(local.resolve("csr.zarr/X/indices"), 4);
    H5adWriter.write(dense, local.resolve("dense.h5ad"));
    ZarrWriter.write(dense, local.resolve("dense.zarr"));
    // anndata's writing through h5py: X chunked 16 x 8 and compressed.
    Files.copy(Fixtures.dir().resolve("dense.h5ad"), local.resolve("chunked.h5ad"));
    for (String name : STORES) {
      s3.upload(local.resolve(name), "cells", "atlas/" + name);
    }
  }

  /** Splits a 1-D Zarr array of one uncompressed chunk into chunks of 512 elements. */
  private static void rechunk(Path array, int width) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode meta = (ObjectNode) json.readTree(array.resolve(".zarray").toFile());
    assertThat(meta.get("compressor").isNull()).isTrue();
    byte[] all = Files.readAllBytes(array.resolve("0"));
    Files.delete(array.resolve("0"));
    int chunk = 512;
    meta.putArray("chunks").add(chunk);
    Files.writeString(array.resolve(".zarray"), meta.toString());
    int length = meta.get("shape").get(0).asInt();
    for (int c = 0; c * chunk < length; c++) {
      byte[] part = new byte[chunk * width];
      int from = c * chunk * width;
      System.arraycopy(all, from, part, 0, Math.min(part.length, length * width - from));
      Files.write(array.resolve(Integer.toString(c)), part);
    }
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  @BeforeEach
  void start() throws Exception {
    proxy = new FaultProxy(s3.port());
    // Blocks of 512 bytes (rows a few blocks apart), a memory cache holding everything.
    objects = new ObjectStore(s3.settings(proxy.endpoint())
        .withCaches(512, 64L << 20, null, 0).withReadAhead(2)
        // A try's limit only against hangs: a try timed out on a loaded machine would be
        // sent again, and "every byte once" below would fail.
        .withRequests(8, 3, Duration.ofSeconds(60), Duration.ofSeconds(2)));
  }

  @AfterEach
  void stop() throws Exception {
    objects.close();
    proxy.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"csr.h5ad", "csr.zarr", "dense.h5ad", "dense.zarr", "chunked.h5ad"})
  void hintedRowsAreFetchedBeforeTheyAreReadAndReadFromMemory(String name) throws Exception {
    assertTimeoutPreemptively(LIMIT, () -> {
      try (AnnDataStore bucket = AnnDataStores.open(objects.path("s3://cells/atlas/" + name));
          AnnDataStore disk = AnnDataStores.open(local.resolve(name))) {
        MatrixReader x = bucket.matrix("X").orElseThrow();
        assertThat(x.readsAhead()).isTrue();
        long nRows = x.nRows();
        Random random = new Random(7);
        // Hinted rows from the first half, others from the second (whose blocks and chunks
        // the first half's reads leave unfetched, bar a few fetched ahead of reads in order).
        int n = (int) Math.min(48, nRows / 4);
        long[] hinted = scattered(random, 0, nRows / 2, n);
        long[] notHinted = scattered(random, nRows / 2, nRows, n);
        ObjectStoreMetrics m = ObjectStoreMetrics.global();

        long ahead = m.blocksFetchedAhead();
        x.prefetch(hinted);
        awaitReadAhead();
        assertThat(m.blocksFetchedAhead() - ahead).isPositive();
        long misses = m.memoryMisses();
        RowBlock got = x.readRows(hinted);
        // Every block the read needed was fetched ahead: not one miss.
        assertThat(m.memoryMisses() - misses).isZero();
        assertSame(got, disk.matrix("X").orElseThrow().readRows(hinted));

        // Rows read without a hint need blocks nobody fetched yet: the test can tell. Counted
        // as GETs sent for the read (and the in-order read-ahead it sets off), not as cache
        // misses: whether that read-ahead outruns the reader is a matter of timing.
        awaitReadAhead();
        long gets = gets();
        assertSame(x.readRows(notHinted), disk.matrix("X").orElseThrow().readRows(notHinted));
        awaitReadAhead();
        assertThat(gets() - gets).isPositive();
      }
      // Every byte once: no range was asked for twice.
      assertThat(proxy.requests()).filteredOn(r -> r.startsWith("GET ")).doesNotHaveDuplicates();
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"kind\": \"block_shuffle\", \"block_size\": 16",
      "\"kind\": \"shuffle\""})
  void aStreamHintsItsNextBatchesAndServesWhatTheFilesServe(String sampler) throws Exception {
    try (BufferAllocator allocator = new RootAllocator();
        AnnflightServer server = AnnflightServer.start(new RequestResolver(
            new CollectionRegistry(List.of()), DataRoot.of(objects.path("s3://cells/atlas"))),
            AnnDataStores::open, AnnflightServer.Options.local(0), allocator);
        FlightClient client = FlightClient.builder(allocator, server.location()).build();
        AnnflightServer localServer = AnnflightServer.start(new RequestResolver(
            new CollectionRegistry(List.of()), DataRoot.of(local)), AnnDataStores::open,
            AnnflightServer.Options.local(0), allocator);
        FlightClient localClient = FlightClient.builder(allocator, localServer.location())
            .build()) {
      for (String stores : List.of("\"csr.h5ad\"", "\"csr.zarr\"")) {
        String request = "{\"paths\": [" + stores + "], \"matrix_format\": \"csr\","
            + " \"rows_per_batch\": 100, \"sampler\": {" + sampler
            + ", \"seed\": 5, \"epoch\": 2}}";
        ObjectStoreMetrics m = ObjectStoreMetrics.global();
        long ahead = m.blocksFetchedAhead();
        proxy.clearLog();
        String got = assertTimeoutPreemptively(LIMIT, () -> tsv(client, request));
        assertThat(got).as(request).isEqualTo(tsv(localClient, request));
        // Blocks were fetched ahead of the stream's reads. (How many of its reads then find
        // them in memory depends on timing; the test above counts that for given hints.)
        awaitReadAhead();
        assertThat(m.blocksFetchedAhead() - ahead).as(request).isPositive();
        assertThat(proxy.requests()).as(request).filteredOn(r -> r.startsWith("GET "))
            .doesNotHaveDuplicates();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"csr.h5ad", "csr.zarr", "dense.h5ad", "dense.zarr", "chunked.h5ad"})
  void localStoresAndAStoreWithoutReadAheadTakeNoHints(String name) throws Exception {
    try (AnnDataStore disk = AnnDataStores.open(local.resolve(name));
        ObjectStore off = new ObjectStore(s3.settings(proxy.endpoint())
            .withCaches(4096, 1L << 20, null, 0).withReadAhead(0));
        AnnDataStore bucket = AnnDataStores.open(off.path("s3://cells/atlas/" + name))) {
      assertThat(disk.matrix("X").orElseThrow().readsAhead()).isFalse();
      assertThat(bucket.matrix("X").orElseThrow().readsAhead()).isFalse();
      proxy.clearLog();
      bucket.matrix("X").orElseThrow().prefetch(new long[] {0, 1, 2});
      assertThat(proxy.requests()).noneMatch(r -> r.contains("bytes="));
    }
  }

  /** Ranged GETs the relay has seen. */
  private long gets() {
    return proxy.requests().stream().filter(r -> r.startsWith("GET ")).count();
  }

  /** {@code n} distinct rows picked at random, ascending. */
  private static long[] scattered(Random random, long from, long to, int n) {
    return random.longs(from, to).distinct().limit(n).sorted().toArray();
  }

  private void awaitReadAhead() throws InterruptedException {
    awaitReadAhead(objects);
  }

  /** Waits (bounded) until no block {@code objects} fetches ahead is still on its way. */
  static void awaitReadAhead(ObjectStore objects) throws InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (objects.readAheadInFlight() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(objects.readAheadInFlight()).isZero();
  }

  private static void assertSame(RowBlock got, RowBlock want) {
    assertThat(dense(got)).isEqualTo(dense(want));
  }

  /** A block's values as dense rows of doubles. */
  private static double[][] dense(RowBlock block) {
    double[][] rows = new double[block.nRows()][block.nCols()];
    if (block instanceof RowBlock.Dense d) {
      for (int i = 0; i < d.nRows() * d.nCols(); i++) {
        rows[i / d.nCols()][i % d.nCols()] = d.values().getDouble(i);
      }
    } else if (block instanceof RowBlock.Sparse s) {
      for (int r = 0; r < s.nRows(); r++) {
        for (int k = s.rowOffsets()[r]; k < s.rowOffsets()[r + 1]; k++) {
          rows[r][s.columns()[k]] += s.values().getDouble(k);
        }
      }
    }
    return rows;
  }

  private static String tsv(FlightClient c, String request) throws Exception {
    return FlightTsv.of(c, request);
  }
}
