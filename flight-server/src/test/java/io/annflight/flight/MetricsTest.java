package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.runtime.StreamLimits;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} read over HTTP and parsed as Prometheus text: the counters move by exactly
 * the rows served and the calls made, by collection, method and status.
 */
class MetricsTest {

  @TempDir Path tmp;

  @Test
  void countersMoveByWhatWasServed() throws Exception {
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    try (BufferAllocator allocator = new RootAllocator();
        AnnflightServer server = AnnflightServer.start(resolver, AnnDataStores::open,
            new AnnflightServer.Options("127.0.0.1", 0, null, 50, Security.NONE, 0, StreamLimits.NONE), allocator);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(server.metricsPort()).isPositive();
      Map<String, Double> before = scrape(server.metricsPort());
      FlightInfo info = client.getInfo(FlightDescriptor.path("test"));
      for (FlightEndpoint e : info.getEndpoints()) {
        try (FlightStream s = client.getStream(e.getTicket())) {
          while (s.next()) {
            s.getRoot().getRowCount();
          }
        }
      }
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.path("nope")))
          .isInstanceOf(FlightRuntimeException.class);
      // flight-core counts a call once its status has gone out (the middleware's
      // onCallCompleted runs after the call is closed), so the client may have its answer
      // before the count moved: wait (bounded) until every call is counted, then compare.
      String infoOk = "annflight_requests_total{method=\"GET_FLIGHT_INFO\",status=\"OK\"}";
      String infoNotFound =
          "annflight_requests_total{method=\"GET_FLIGHT_INFO\",status=\"NOT_FOUND\"}";
      String getOk = "annflight_requests_total{method=\"DO_GET\",status=\"OK\"}";
      Map<String, Double> after = scrapeUntil(server.metricsPort(),
          m -> counted(before, m, infoOk) >= 1 && counted(before, m, infoNotFound) >= 1
              && counted(before, m, getOk) >= info.getEndpoints().size());
      assertThat(delta(before, after, "annflight_rows_sent_total{collection=\"test\"}"))
          .isEqualTo(60.0);
      assertThat(delta(before, after, "annflight_bytes_sent_total{collection=\"test\"}"))
          .isPositive();
      assertThat(delta(before, after, infoOk)).isEqualTo(1.0);
      assertThat(delta(before, after, infoNotFound)).isEqualTo(1.0);
      assertThat(delta(before, after, getOk)).isEqualTo(info.getEndpoints().size());
      assertThat(after).containsKey("annflight_open_stores").containsKey("jvm_threads_current");
      assertThat(after.get("annflight_open_stores")).isEqualTo(1.0);
      assertThat(after.get("annflight_projection_cache_bytes")).isZero();
    }
  }

  @Test
  void theProjectionCacheShowsWhatItHolds() throws Exception {
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    Fixtures.copyTree(Fixtures.dir().resolve("csr.h5ad"), tmp.resolve("root/csr.h5ad"));
    try (BufferAllocator allocator = new RootAllocator();
        AnnflightServer server = AnnflightServer.start(resolver, AnnDataStores::open,
            new AnnflightServer.Options("127.0.0.1", 0, null, 50, Security.NONE, 0,
                StreamLimits.NONE), allocator);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(scrape(server.metricsPort()).get("annflight_projection_cache_bytes")).isZero();
      // 3 of csr.h5ad's 30 genes, in another order than its var (G029 first): projected once,
      // sorted and kept.
      String request = "{\"paths\": [\"csr.h5ad\"], \"matrix_format\": \"csr\","
          + " \"var_names\": [\"G001\", \"G010\", \"G020\"]}";
      FlightInfo info = client.getInfo(FlightDescriptor.command(
          request.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      long rows = 0;
      for (FlightEndpoint e : info.getEndpoints()) {
        try (FlightStream s = client.getStream(e.getTicket())) {
          while (s.next()) {
            rows += s.getRoot().getRowCount();
          }
        }
      }
      assertThat(rows).isEqualTo(50);
      assertThat(scrape(server.metricsPort()).get("annflight_projection_cache_bytes"))
          .isPositive();
    }
  }

  @Test
  void theObsCacheShowsWhatItHoldsWithinItsBudget() throws Exception {
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    Fixtures.copyTree(Fixtures.dir().resolve("csr.h5ad"), tmp.resolve("root/csr.h5ad"));
    String request = "{\"paths\": [\"csr.h5ad\"], \"obs_keys\": [\"cell_type\"]}";
    for (long budget : new long[] {1 << 20, 0}) {
      try (BufferAllocator allocator = new RootAllocator();
          AnnflightServer server = AnnflightServer.start(resolver, AnnDataStores::open,
              new AnnflightServer.Options("127.0.0.1", 0, null, 50, Security.NONE, 0,
                  StreamLimits.NONE, 0, java.util.List.of(),
                  io.annflight.collection.CollectionEngine.DEFAULT_PROJECTION_CACHE_BYTES,
                  budget), allocator);
          FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
        assertThat(scrape(server.metricsPort()).get("annflight_obs_cache_bytes")).isZero();
        client.getInfo(FlightDescriptor.command(
            request.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        double held = scrape(server.metricsPort()).get("annflight_obs_cache_bytes");
        if (budget == 0) {
          assertThat(held).isZero();
        } else {
          // csr.h5ad's 50 cell_type codes (a byte each) and their categories.
          assertThat(held).isGreaterThan(50).isLessThanOrEqualTo(budget);
        }
      }
    }
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
    assertThat(after).as("metrics").containsKey(key);
    return after.get(key) - before.getOrDefault(key, 0.0);
  }

  private static double counted(Map<String, Double> before, Map<String, Double> now,
      String key) {
    return now.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0);
  }

  /** Scrapes until {@code done} holds (bounded: a minute), and returns that scrape. */
  private static Map<String, Double> scrapeUntil(int port,
      java.util.function.Predicate<Map<String, Double>> done) throws Exception {
    long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
    Map<String, Double> m = scrape(port);
    while (!done.test(m) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      m = scrape(port);
    }
    return m;
  }

  /** Samples of the text format: {@code name{labels} value}, comments skipped. */
  private static Map<String, Double> scrape(int port) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Double> out = new HashMap<>();
    for (String line : r.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return out;
  }
}
