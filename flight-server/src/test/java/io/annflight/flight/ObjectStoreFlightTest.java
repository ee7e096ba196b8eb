package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.annflight.store.AnnDataStores;
import io.annflight.store.source.ObjectStore;
import io.annflight.store.source.ObjectStoreException;
import io.annflight.store.source.ObjectStoreMetrics;
import io.annflight.store.source.ObjectStoreSettings;
import io.annflight.testing.FaultProxy;
import io.annflight.testing.FlightTsv;
import io.annflight.testing.Fixtures;
import io.annflight.testing.S3ProxyServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose data root is a bucket prefix (S3Proxy, reached through a fault-injecting
 * relay): the same answers as from local files, the sandbox of request paths, and the statuses
 * of an object store's faults, each bounded in time.
 */
class ObjectStoreFlightTest {
  private static final String[] STORES = {"dense.h5ad", "csr.zarr"};
  private static final Duration LIMIT = Duration.ofSeconds(90);

  private static S3ProxyServer s3;
  @TempDir
  static Path tmp;
  private static Path local;

  private FaultProxy proxy;
  private ObjectStore store;
  private BufferAllocator allocator;
  private AnnflightServer server;
  private FlightClient client;
  private AnnflightServer localServer;
  private FlightClient localClient;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start();
    s3.createBucket("cells");
    local = Files.createDirectories(tmp.resolve("local"));
    for (String name : STORES) {
      Fixtures.copyTree(Fixtures.dir().resolve(name), local.resolve(name));
      s3.upload(local.resolve(name), "cells", "atlas/" + name);
    }
    s3.upload(Fixtures.formats().resolve("v3_sharded.zarr"), "cells", "atlas/v3_sharded.zarr");
    Fixtures.copyTree(Fixtures.formats().resolve("v3_sharded.zarr"),
        local.resolve("v3_sharded.zarr"));
    s3.put("cells", "outside/secret.h5ad", Files.readAllBytes(local.resolve("dense.h5ad")));
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
    allocator = new RootAllocator();
    localServer = AnnflightServer.start(new RequestResolver(new CollectionRegistry(List.of()),
        DataRoot.of(local)), AnnDataStores::open, AnnflightServer.Options.local(0), allocator);
    localClient = FlightClient.builder(allocator, localServer.location()).build();
  }

  /** A server over s3://cells/atlas through the proxy; memory cache of {@code cacheBytes}. */
  private void serveBucket(long cacheBytes, int attempts) throws Exception {
    ObjectStoreSettings settings = s3.settings(proxy.endpoint())
        .withCaches(4096, cacheBytes, null, 0)
        // A try's limit only against hangs: one timed out on a loaded machine would be tried
        // again, and the relay would log a range asked for twice.
        .withRequests(8, attempts, Duration.ofSeconds(60), Duration.ofSeconds(2));
    store = new ObjectStore(settings);
    server = AnnflightServer.start(new RequestResolver(new CollectionRegistry(List.of()),
        DataRoot.of(store.path("s3://cells/atlas"))), AnnDataStores::open,
        AnnflightServer.Options.local(0), allocator);
    client = FlightClient.builder(allocator, server.location()).build();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {client, server, localClient, localServer}) {
      if (c != null) {
        c.close();
      }
    }
    if (store != null) {
      store.close();
    }
    proxy.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  @Test
  void theBucketServesWhatTheFilesServe() throws Exception {
    serveBucket(8L << 20, 3);
    for (String request : List.of(
        "{\"paths\": [\"dense.h5ad\", \"csr.zarr\"], \"obs_keys\": [\"cell_type\"]}",
        "{\"paths\": [\"csr.zarr\", \"dense.h5ad\"], \"matrix_format\": \"csr\","
            + " \"sampler\": {\"kind\": \"block_shuffle\", \"seed\": 3, \"epoch\": 1}, \"rows_per_batch\": 7}",
        "{\"paths\": [\"v3_sharded.zarr\"], \"obs_keys\": [\"label\"]}")) {
      assertThat(tsv(client, request)).as(request).isEqualTo(tsv(localClient, request));
    }
    String describe = "{\"paths\": [\"dense.h5ad\", \"csr.zarr\"], \"join\": \"outer\"}";
    assertThat(action(client, "describe", describe).replace("s3://cells/atlas/", ""))
        .isEqualTo(action(localClient, "describe", describe));
    // Warm: the same stream again needs (almost) nothing from the bucket. Ranged GETs counted
    // by this test's relay with no fetch ahead on its way, before or after (the process-wide
    // metrics would also count fetches ahead still running, whose timing varies).
    PlannedReadAheadTest.awaitReadAhead(store);
    proxy.clearLog();
    tsv(client, "{\"paths\": [\"dense.h5ad\"]}");
    tsv(client, "{\"paths\": [\"dense.h5ad\"]}");
    PlannedReadAheadTest.awaitReadAhead(store);
    assertThat(proxy.requests()).filteredOn(r -> r.startsWith("GET ") && r.contains("bytes="))
        .hasSizeLessThan(3);
  }

  @Test
  void aWarmEpochAsksTheBucketOnlyWhetherItsStoresChangedOncePerRequest() throws Exception {
    serveBucket(8L << 20, 3);
    for (String request : List.of("{\"paths\": [\"dense.h5ad\"], \"rows_per_batch\": 3}",
        "{\"paths\": [\"csr.zarr\", \"dense.h5ad\"], \"rows_per_batch\": 3, \"sampler\":"
            + " {\"kind\": \"block_shuffle\", \"seed\": 1, \"epoch\": 1, \"block_size\": 4}}")) {
      proxy.clearLog();
      String cold = tsv(client, request);
      // A Zarr store's groups are known from the listing it was opened on: no listing of them.
      assertThat(proxy.requests()).as(request).noneMatch(r -> r.contains("delimiter="));
      proxy.clearLog();
      FlightInfo info = client.getInfo(command(request));
      StringBuilder warm = new StringBuilder(info.getSchema().toString()).append('\n');
      for (FlightEndpoint e : info.getEndpoints()) {
        try (FlightStream s = client.getStream(e.getTicket())) {
          while (s.next()) {
            warm.append(s.getRoot().contentToTSVString());
          }
        }
      }
      assertThat(warm.toString()).as(request).isEqualTo(cold);
      // 20 batches and more per store; the bucket is asked once per store and request (the
      // plan's, then each stream's) whether the store changed, with a HEAD of its object (a
      // Zarr store: of its prefix, a listing, and its root metadata), and nothing is fetched.
      int stores = request.contains("csr.zarr") ? 2 : 1;
      int perLookup = request.contains("csr.zarr") ? 4 : 1;
      assertThat(proxy.requests()).as(request).noneMatch(r -> r.contains("bytes="))
          .hasSizeLessThanOrEqualTo((1 + info.getEndpoints().size()) * stores * perLookup);
    }
  }

  @Test
  void lookupsWithinTheRevalidationIntervalShareOneHeadUntilAReadFindsTheObjectReplaced()
      throws Exception {
    byte[] data = putRandom("blocks/seen.bin", 10_000, 9);
    ObjectStoreSettings settings = s3.settings(proxy.endpoint()).withCaches(4096, 0, null, 0)
        .withReadAhead(0);
    // An hour never passes in a test: every lookup below lies within the interval.
    try (ObjectStore objects = new ObjectStore(settings.withRevalidate(Duration.ofHours(1)))) {
      var path = objects.path("s3://cells/blocks/seen.bin");
      var source = objects.open(path);
      proxy.clearLog();
      Object key = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class)
          .fileKey();
      assertThat(Files.size(path)).isEqualTo(data.length);
      assertThat(Files.exists(path)).isTrue();
      assertThat(key).isEqualTo(source.identity());
      assertThat(proxy.requests()).containsExactly("HEAD /cells/blocks/seen.bin");
      byte[] other = data.clone();
      other[0] ^= 1;
      s3.put("cells", "blocks/seen.bin", other);
      assertThat(Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class)
          .fileKey()).isEqualTo(key);
      assertThat(proxy.requests()).hasSize(1);
      // A read of the version seen fails: what was seen of the object is forgotten.
      assertThatThrownBy(() -> objects.read(source.version(), 0, 10))
          .isInstanceOfSatisfying(ObjectStoreException.class, e ->
              assertThat(e.kind()).isEqualTo(ObjectStoreException.Kind.CHANGED));
      Object renewed = Files.readAttributes(path,
          java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      assertThat(renewed).isNotEqualTo(key).isEqualTo(objects.open(path).identity());
    }
    try (ObjectStore objects = new ObjectStore(settings.withRevalidate(Duration.ZERO))) {
      var path = objects.path("s3://cells/blocks/seen.bin");
      proxy.clearLog();
      Files.size(path);
      Files.size(path);
      assertThat(proxy.requests()).containsExactly("HEAD /cells/blocks/seen.bin",
          "HEAD /cells/blocks/seen.bin");
    }
  }

  @Test
  void blocksAreFetchedOnceCoalescedAndKeptOnDiskAcrossRestarts() throws Exception {
    byte[] data = new byte[50_000];
    new java.util.Random(7).nextBytes(data);
    s3.put("cells", "blocks/data.bin", data);
    Path cache = tmp.resolve("disk-cache");
    ObjectStoreSettings settings = s3.settings(proxy.endpoint())
        .withCaches(4096, 1L << 20, cache, 1L << 20).withReadAhead(0);
    ObjectStoreMetrics m = ObjectStoreMetrics.global();
    try (ObjectStore first = new ObjectStore(settings)) {
      var source = first.open(first.path("s3://cells/blocks/data.bin"));
      proxy.clearLog();
      byte[] got = first.read(source.version(), 1000, 20_000); // blocks 0..5: one GET
      assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(data, 1000, 21_000));
      assertThat(proxy.requests()).containsExactly(
          "GET /cells/blocks/data.bin bytes=0-24575");
      long hits = m.memoryHits();
      first.read(source.version(), 4096, 8192);
      assertThat(m.memoryHits() - hits).isEqualTo(2);
      assertThat(proxy.requests()).hasSize(1);
    }
    try (ObjectStore restarted = new ObjectStore(settings)) {
      var source = restarted.open(restarted.path("s3://cells/blocks/data.bin"));
      proxy.clearLog();
      long diskHits = m.diskHits();
      assertThat(restarted.read(source.version(), 0, 24_576))
          .isEqualTo(java.util.Arrays.copyOf(data, 24_576));
      assertThat(m.diskHits() - diskHits).isEqualTo(6);
      assertThat(proxy.requests()).isEmpty();
      // A new version of the object is another identity: none of the old blocks serve it.
      byte[] other = data.clone();
      other[0] ^= 1;
      s3.put("cells", "blocks/data.bin", other);
      var renewed = restarted.open(restarted.path("s3://cells/blocks/data.bin"));
      assertThat(renewed.identity()).isNotEqualTo(source.identity());
      assertThat(restarted.read(renewed.version(), 0, 10)).isEqualTo(
          java.util.Arrays.copyOf(other, 10));
      assertThatThrownBy(() -> restarted.read(source.version(), 30_000, 10))
          .isInstanceOfSatisfying(ObjectStoreException.class, e ->
              assertThat(e.kind()).isEqualTo(ObjectStoreException.Kind.CHANGED));
    }
  }

  @Test
  void metricsCountFetchesCacheAnswersAndGetLatency() throws Exception {
    try (var metrics = new io.annflight.flight.metrics.ServerMetrics()) {
      int port = metrics.serve("127.0.0.1", 0);
      serveBucket(1L << 20, 3);
      tsv(client, "{\"paths\": [\"csr.zarr\"]}");
      String text;
      try (var in = java.net.URI.create("http://127.0.0.1:" + port + "/metrics").toURL()
          .openStream()) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      assertThat(value(text, "annflight_object_store_bytes_fetched_total")).isPositive();
      assertThat(value(text, "annflight_object_store_requests_total")).isPositive();
      assertThat(value(text, "annflight_block_cache_memory_misses_total")).isPositive();
      assertThat(value(text, "annflight_object_store_get_seconds_count")).isPositive();
      assertThat(text).contains("annflight_object_store_retries_total",
          "annflight_block_cache_disk_hits_total");
    }
  }

  private static double value(String metrics, String name) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    throw new AssertionError(name + " not in the metrics");
  }

  @Test
  void readsInOrderFetchTheNextBlocksAhead() throws Exception {
    byte[] data = putRandom("blocks/ahead.bin", 64 * 1024, 8);
    ObjectStoreSettings settings = s3.settings(proxy.endpoint())
        .withCaches(4096, 1L << 20, null, 0).withReadAhead(4);
    try (ObjectStore objects = new ObjectStore(settings)) {
      var source = objects.open(objects.path("s3://cells/blocks/ahead.bin"));
      proxy.clearLog();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
      source.read(buf, 0);
      source.read(buf.clear(), 4096); // in order: blocks 2-5 are fetched ahead
      awaitRequests(List.of("GET /cells/blocks/ahead.bin bytes=8192-24575"));
      for (long at = 8192; at < 24_576; at += 4096) {
        source.read(buf.clear(), at);
        assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(data, (int) at,
            (int) at + 4096));
      }
      // Reading blocks 2-5 in order asked for blocks 6-9 ahead, and for nothing read already.
      assertThat(proxy.requests()).filteredOn(r -> r.contains("bytes=8192-"))
          .hasSize(1);
    }
  }

  @Test
  void interleavedRunsOfReadsInOrderEachFetchAhead() throws Exception {
    byte[] data = putRandom("blocks/runs.bin", 64 * 1024, 10);
    ObjectStoreSettings settings = s3.settings(proxy.endpoint())
        .withCaches(4096, 1L << 20, null, 0).withReadAhead(2);
    try (ObjectStore objects = new ObjectStore(settings)) {
      var source = objects.open(objects.path("s3://cells/blocks/runs.bin"));
      proxy.clearLog();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
      // A CSR matrix's rows: its data (blocks 0, 1, ...) and its indices (8, 9, ...) in turn.
      for (long block : new long[] {0, 8, 1, 9}) {
        source.read(buf.clear(), block * 4096);
        assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(data,
            (int) block * 4096, (int) block * 4096 + 4096));
      }
      awaitRequests(List.of("GET /cells/blocks/runs.bin bytes=8192-16383",
          "GET /cells/blocks/runs.bin bytes=40960-49151"));
    }
  }

  @Test
  void zarrChunksOfTheNextRowsAreFetchedAheadOfAReadInOrder() throws Exception {
    Path dir = tmp.resolve("ahead.zarr");
    Files.createDirectories(dir.resolve("a"));
    Files.writeString(dir.resolve(".zgroup"), "{\"zarr_format\": 2}");
    Files.writeString(dir.resolve("a/.zarray"), "{}");
    for (int i = 0; i < 10; i++) {
      byte[] chunk = new byte[1000];
      java.util.Arrays.fill(chunk, (byte) i);
      Files.write(dir.resolve("a/" + i), chunk);
    }
    s3.upload(dir, "cells", "ahead.zarr");
    ObjectStoreSettings settings = s3.settings(proxy.endpoint())
        .withCaches(4096, 1L << 20, null, 0).withReadAhead(2); // 8 KiB ahead: 8 chunks
    try (ObjectStore objects = new ObjectStore(settings)) {
      var store = objects.path("s3://cells/ahead.zarr");
      var files = io.annflight.store.StoreFiles.of(store);
      proxy.clearLog();
      // A jump (0, then 5) fetches nothing ahead; 5 then 6 is in order: 7 and 8 come ahead.
      for (int i : new int[] {0, 5, 6}) {
        assertThat(files.readIfExists(store.resolve("a/" + i), "a", "chunk")).containsOnly(i);
      }
      awaitRequests(java.util.stream.IntStream.rangeClosed(7, 9)
          .mapToObj(i -> "GET /cells/ahead.zarr/a/" + i + " bytes=0-999").toList());
      assertThat(proxy.requests()).noneMatch(r -> r.startsWith("GET /cells/ahead.zarr/a/1 ")
              || r.startsWith("GET /cells/ahead.zarr/a/4 "));
      for (int i = 7; i < 10; i++) {
        assertThat(files.readIfExists(store.resolve("a/" + i), "a", "chunk")).containsOnly(i);
      }
      // Each chunk was fetched once: the reads of 7 to 9 found them fetched.
      assertThat(proxy.requests()).filteredOn(r -> r.startsWith("GET /cells/ahead.zarr/a/"))
          .hasSize(6).doesNotHaveDuplicates();
    }
  }

  /** An object of {@code size} random bytes (from {@code seed}) at cells/{@code key}. */
  private static byte[] putRandom(String key, int size, long seed) {
    byte[] data = new byte[size];
    new java.util.Random(seed).nextBytes(data);
    s3.put("cells", key, data);
    return data;
  }

  /** Waits (bounded) until the relay saw every one of {@code lines}: fetches ahead. */
  private void awaitRequests(List<String> lines) throws InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (!proxy.requests().containsAll(lines) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(proxy.requests()).containsAll(lines);
  }

  /**
   * A sharded Zarr v3 X of 24 rows x 10 float64, one shard of 24 inner chunks of one row,
   * uncompressed, its index first: row r lies at bytes 388 + 80 r of the shard.
   */
  private static Path shardedStore() throws Exception {
    Path dir = tmp.resolve("big_sharded.zarr");
    if (Files.exists(dir)) {
      return dir;
    }
    Fixtures.copyTree(Fixtures.formats().resolve("v3_sharded.zarr"), dir);
    try (var old = Files.walk(dir.resolve("X/c"))) {
      old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    Files.writeString(dir.resolve("X/zarr.json"), "{\"zarr_format\": 3, \"node_type\":"
        + " \"array\", \"shape\": [24, 10], \"data_type\": \"float64\", \"chunk_grid\":"
        + " {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [24, 10]}},"
        + " \"chunk_key_encoding\": {\"name\": \"default\", \"configuration\":"
        + " {\"separator\": \"/\"}}, \"fill_value\": 0, \"codecs\": [{\"name\":"
        + " \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [1, 10], \"codecs\":"
        + " [{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}}],"
        + " \"index_codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\":"
        + " \"little\"}}, {\"name\": \"crc32c\"}], \"index_location\": \"start\"}}],"
        + " \"attributes\": {\"encoding-type\": \"array\", \"encoding-version\": \"0.2.0\"}}");
    java.nio.ByteBuffer index = java.nio.ByteBuffer.allocate(24 * 16)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    java.nio.ByteBuffer rows = java.nio.ByteBuffer.allocate(24 * 80)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < 24; r++) {
      index.putLong(388 + 80L * r).putLong(80);
      for (int c = 0; c < 10; c++) {
        rows.putDouble(r * 10 + c);
      }
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(index.array());
    java.nio.ByteBuffer shard = java.nio.ByteBuffer.allocate(388 + 24 * 80)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    shard.put(index.array()).putInt((int) crc.getValue()).put(rows.array());
    Files.createDirectories(dir.resolve("X/c/0"));
    Files.write(dir.resolve("X/c/0/0"), shard.array());
    return dir;
  }

  @Test
  void aShardedReadFetchesTheIndexAndOnlyTheInnerChunksItNeeds() throws Exception {
    s3.upload(shardedStore(), "cells", "atlas/big_sharded.zarr");
    ObjectStoreSettings settings = s3.settings(proxy.endpoint()).withCaches(512, 1L << 20, null,
        0).withReadAhead(0);
    try (ObjectStore objects = new ObjectStore(settings);
        io.annflight.store.AnnDataStore zarr = AnnDataStores.open(
            objects.path("s3://cells/atlas/big_sharded.zarr"))) {
      io.annflight.store.MatrixReader x = zarr.matrix("X").orElseThrow();
      proxy.clearLog();
      double[][] row5 = Fixtures.toDense(x.readRows(5, 6));
      assertThat(row5[0]).containsExactly(50, 51, 52, 53, 54, 55, 56, 57, 58, 59);
      List<String> shardGets = proxy.requests().stream()
          .filter(r -> r.startsWith("GET /cells/atlas/big_sharded.zarr/X/c/0/0")).toList();
      // The index (bytes 0-387) and row 5 (bytes 788-867): blocks 0 and 1 of 5, no more.
      assertThat(shardGets).isNotEmpty().allSatisfy(r ->
          assertThat(Long.parseLong(r.substring(r.lastIndexOf('-') + 1))).isLessThan(1024));
      proxy.clearLog();
      // Row 15 (bytes 1588-1667) lies in block 3 alone; the index is cached.
      double[][] row15 = Fixtures.toDense(x.readRows(15, 16));
      assertThat(row15[0][9]).isEqualTo(159);
      assertThat(proxy.requests()).containsExactly(
          "GET /cells/atlas/big_sharded.zarr/X/c/0/0 bytes=1536-2047");
    }
  }

  @Test
  void requestPathsStayUnderThePrefix() throws Exception {
    serveBucket(1L << 20, 3);
    for (String path : List.of("../outside/secret.h5ad", "/outside/secret.h5ad",
        "s3://cells/outside/secret.h5ad")) {
      assertThatThrownBy(() -> client.getInfo(command("{\"paths\": [\"" + path + "\"]}")))
          .as(path).isInstanceOfSatisfying(FlightRuntimeException.class, e ->
              assertThat(e.status().code()).isIn(FlightStatusCode.INVALID_ARGUMENT,
                  FlightStatusCode.NOT_FOUND))
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret.h5ad\" lies"));
    }
    assertThatThrownBy(() -> client.getInfo(command("{\"paths\": [\"missing.h5ad\"]}")))
        .isInstanceOfSatisfying(FlightRuntimeException.class, e ->
            assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
        .hasMessageContaining("missing.h5ad");
  }

  @Test
  void wrongCredentialsAndAMissingBucketSaySo() {
    ObjectStoreSettings wrong = s3.settings(proxy.endpoint()).withCredentials(
        software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(s3.identity(),
                "not-the-secret")))
        .withRequests(4, 2, Duration.ofSeconds(5), Duration.ofSeconds(2));
    try (ObjectStore refused = new ObjectStore(wrong)) {
      assertThatThrownBy(() -> DataRoot.of(refused.path("s3://cells/atlas")))
          .isInstanceOfSatisfying(ObjectStoreException.class, e -> {
            assertThat(e.kind()).isEqualTo(ObjectStoreException.Kind.DENIED);
            assertThat(FlightErrors.status(e).code()).isEqualTo(FlightStatusCode.UNAUTHORIZED);
          })
          .hasMessageContaining("s3://cells/atlas")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-the-secret"));
    }
    try (ObjectStore ok = new ObjectStore(s3.settings(proxy.endpoint()))) {
      assertThatThrownBy(() -> DataRoot.of(ok.path("s3://no-such-bucket/atlas")))
          .hasMessageContaining("s3://no-such-bucket/atlas").hasMessageContaining("not exist");
    }
  }

  @Test
  void unreachableAndFailingStoresAreUnavailableWithoutHanging() throws Exception {
    serveBucket(0, 2);
    String request = "{\"paths\": [\"dense.h5ad\"], \"rows_per_batch\": 5}";
    FlightInfo info = client.getInfo(command(request));
    proxy.failAll(true);
    long retries = ObjectStoreMetrics.global().retries();
    assertTimeoutPreemptively(LIMIT, () -> assertThatThrownBy(() -> drain(info))
        .isInstanceOfSatisfying(FlightRuntimeException.class, e ->
            assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE))
        .hasMessageContaining("dense.h5ad"));
    assertThat(ObjectStoreMetrics.global().retries()).isGreaterThan(retries);
    proxy.failAll(false);
    proxy.close(); // nothing listens there any more: connections are refused
    assertTimeoutPreemptively(LIMIT, () -> assertThatThrownBy(() -> drain(info))
        .isInstanceOfSatisfying(FlightRuntimeException.class, e ->
            assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE)));
    proxy = new FaultProxy(s3.port());
  }

  @Test
  void throttlingAndServerErrorsAreRetried() throws Exception {
    serveBucket(0, 5);
    String request = "{\"paths\": [\"csr.zarr\"], \"obs_keys\": [\"cell_type\"]}";
    String want = tsv(localClient, request);
    long retries = ObjectStoreMetrics.global().retries();
    proxy.throttleNext(2);
    proxy.latency(5);
    String got = assertTimeoutPreemptively(LIMIT, () -> tsv(client, request));
    // Another store, not read yet (csr.zarr's chunks may all be decoded in memory by now).
    String other = "{\"paths\": [\"dense.h5ad\"], \"obs_keys\": [\"cell_type\"]}";
    proxy.failNext(2);
    String again = assertTimeoutPreemptively(LIMIT, () -> tsv(client, other));
    assertThat(got).isEqualTo(want);
    assertThat(again).isEqualTo(tsv(localClient, other));
    assertThat(ObjectStoreMetrics.global().retries()).isGreaterThanOrEqualTo(retries + 4);
  }

  @Test
  void anObjectReplacedMidEpochFailsTheStreamAndNewRequestsReadTheNewOne() throws Exception {
    serveBucket(0, 2);
    String request = "{\"paths\": [\"x.h5ad\"], \"rows_per_batch\": 5}";
    s3.put("cells", "atlas/x.h5ad", Files.readAllBytes(local.resolve("dense.h5ad")));
    FlightInfo before = client.getInfo(command(request));
    assertThat(before.getRecords()).isEqualTo(60);
    Path csr = Files.createDirectories(tmp.resolve("csr"));
    Fixtures.copyTree(Fixtures.dir().resolve("csr.h5ad"), csr.resolve("x.h5ad"));
    assertTimeoutPreemptively(LIMIT, () -> {
      // The stream's first read waits in the relay while the object is replaced: the stream,
      // opened on the old version, then needs bytes the bucket no longer has (no cache here).
      // (Without the wait the whole small stream may be read before the replacement.)
      proxy.holdReads();
      try (FlightStream s = client.getStream(before.getEndpoints().get(0).getTicket())) {
        while (proxy.held() == 0) {
          Thread.sleep(10);
        }
        s3.put("cells", "atlas/x.h5ad", Files.readAllBytes(csr.resolve("x.h5ad")));
        proxy.release();
        // The running stream reads the version it opened or fails; never the new one's rows.
        assertThatThrownBy(() -> {
          while (s.next()) {
            // nothing can arrive: the stream's first read is the one held
          }
        }).isInstanceOf(FlightRuntimeException.class)
            .hasMessageContaining("x.h5ad")
            .hasMessageContaining("replaced");
      } finally {
        proxy.release();
      }
    });
    FlightInfo after = client.getInfo(command(request));
    assertThat(after.getRecords()).isEqualTo(50);
    assertThat(drain(after)).isEqualTo(50);
  }

  @Test
  void aStoppedObjectStoreFailsAStreamCleanly() throws Exception {
    try (S3ProxyServer own = S3ProxyServer.start()) {
      own.createBucket("gone");
      own.upload(local.resolve("csr.zarr"), "gone", "csr.zarr");
      try (ObjectStore s = new ObjectStore(own.settings().withCaches(4096, 0, null, 0)
          .withRequests(4, 2, Duration.ofSeconds(5), Duration.ofSeconds(2)));
          AnnflightServer srv = AnnflightServer.start(new RequestResolver(
              new CollectionRegistry(List.of()), DataRoot.of(s.path("s3://gone"))),
              AnnDataStores::open, AnnflightServer.Options.local(0), allocator);
          FlightClient c = FlightClient.builder(allocator, srv.location()).build()) {
        FlightInfo info = c.getInfo(command("{\"paths\": [\"csr.zarr\"], \"rows_per_batch\": 1}"));
        Ticket ticket = info.getEndpoints().get(0).getTicket();
        assertTimeoutPreemptively(LIMIT, () -> {
          try (FlightStream stream = c.getStream(ticket)) {
            assertThat(stream.next()).isTrue();
            own.stop();
            assertThatThrownBy(() -> {
              while (stream.next()) {
                // the rows already read may still arrive; the rest cannot
              }
              // Everything was read before the stop: a new stream of it must fail.
              try (FlightStream again = c.getStream(ticket)) {
                while (again.next()) {
                  // fails once it needs the store
                }
              }
            }).isInstanceOfSatisfying(FlightRuntimeException.class, e ->
                assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE));
          }
        });
      }
    }
  }

  private long drain(FlightInfo info) throws Exception {
    long rows = 0;
    for (FlightEndpoint e : info.getEndpoints()) {
      try (FlightStream s = client.getStream(e.getTicket())) {
        while (s.next()) {
          rows += s.getRoot().getRowCount();
        }
      }
    }
    return rows;
  }

  private static String tsv(FlightClient c, String request) throws Exception {
    return FlightTsv.of(c, request);
  }

  private static String action(FlightClient c, String type, String body) {
    Iterator<org.apache.arrow.flight.Result> it =
        c.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    List<String> out = new ArrayList<>();
    it.forEachRemaining(r -> out.add(new String(r.getBody(), StandardCharsets.UTF_8)));
    return String.join("\n", out);
  }

  private static FlightDescriptor command(String json) {
    return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
  }
}
