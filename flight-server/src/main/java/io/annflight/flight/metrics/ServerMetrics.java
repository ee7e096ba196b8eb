package io.annflight.flight.metrics;

import io.annflight.runtime.StreamEvents;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.function.LongSupplier;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.RequestContext;

/**
 * The server's Prometheus metrics, in a registry of its own (none static: two servers in one
 * JVM count apart). Streams report what they sent; a Flight middleware counts every call by
 * method and status; gauges read the server's state when scraped. {@link #serve} exposes them
 * as Prometheus text at {@code /metrics}. The README lists every metric.
 */
public final class ServerMetrics implements StreamEvents, AutoCloseable {

  /** Where the gauges read the server's state. */
  public record State(LongSupplier streamsRunning, LongSupplier arrowBytes,
      LongSupplier streamBytes, LongSupplier budgetBytes, LongSupplier openStores,
      LongSupplier projectionCacheBytes, LongSupplier obsCacheBytes) {}

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter rows;
  private final Counter bytes;
  private final Counter requests;
  private final Histogram streamSeconds;
  private final Histogram budgetWaitSeconds;
  private final Histogram objectGetSeconds;
  private final java.util.function.DoubleConsumer objectGets;
  private HTTPServer http;

  public ServerMetrics() {
    rows = Counter.builder().name("annflight_rows_sent_total")
        .help("Rows sent by DoGet streams").labelNames("collection").register(registry);
    bytes = Counter.builder().name("annflight_bytes_sent_total")
        .help("Arrow bytes of the record batches sent (before any IPC compression)")
        .labelNames("collection").register(registry);
    requests = Counter.builder().name("annflight_requests_total")
        .help("Flight calls by method and final status").labelNames("method", "status")
        .register(registry);
    streamSeconds = Histogram.builder().name("annflight_stream_duration_seconds")
        .help("Time from the start of a DoGet stream to its end").labelNames("collection")
        .register(registry);
    budgetWaitSeconds = Histogram.builder().name("annflight_memory_budget_wait_seconds")
        .help("Waits of streams for the memory budget before filling a batch")
        .register(registry);
    objectGetSeconds = Histogram.builder().name("annflight_object_store_get_seconds")
        .help("Ranged GETs to object stores (s3://), retries included")
        .classicUpperBounds(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
        .register(registry);
    objectGets = objectGetSeconds::observe;
    objectStoreCounters(io.annflight.store.source.ObjectStoreMetrics.global());
    JvmMetrics.builder().register(registry);
  }

  /** What object stores fetched and their caches answered (the process's, read at scrape). */
  private void objectStoreCounters(io.annflight.store.source.ObjectStoreMetrics m) {
    m.listenToGets(objectGets);
    counter("annflight_object_store_requests_total", "Requests to object stores (HEAD, LIST,"
        + " GET), retries not counted", m::requests);
    counter("annflight_object_store_bytes_fetched_total", "Bytes fetched by ranged GETs",
        m::bytesFetched);
    counter("annflight_object_store_retries_total", "Tries repeated after throttling, 5xx or a"
        + " timeout", m::retries);
    counter("annflight_object_store_failures_total", "Requests that failed after their"
        + " retries", m::failures);
    counter("annflight_block_cache_memory_hits_total", "Blocks found in the memory cache",
        m::memoryHits);
    counter("annflight_block_cache_memory_misses_total", "Blocks not in the memory cache",
        m::memoryMisses);
    counter("annflight_block_cache_fetched_ahead_total", "Blocks fetched ahead of their"
        + " readers (reads in order, a stream's next batches)", m::blocksFetchedAhead);
    counter("annflight_block_cache_disk_hits_total", "Blocks found in the disk cache"
        + " (--cache-dir)", m::diskHits);
    counter("annflight_block_cache_disk_misses_total", "Blocks not in the disk cache",
        m::diskMisses);
    gauge("annflight_block_cache_memory_bytes", "Bytes the block cache of the server's object"
        + " store holds in memory (--s3-memory-cache)", () -> {
          io.annflight.store.source.ObjectStore s = io.annflight.store.source.ObjectStores.current();
          return s == null ? 0 : s.memoryCacheBytes();
        });
    gauge("annflight_block_cache_disk_bytes", "Bytes the block cache of the server's object"
        + " store holds on disk (--cache-dir)", () -> {
          io.annflight.store.source.ObjectStore s = io.annflight.store.source.ObjectStores.current();
          return s == null ? 0 : s.diskCacheBytes();
        });
  }

  private void counter(String name, String help, LongSupplier value) {
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name(name).help(help)
        .callback(cb -> cb.call(value.getAsLong())).register(registry);
  }

  /** Registers the gauges, read from {@code state} at every scrape; call once. */
  public void watch(State state) {
    gauge("annflight_streams_running", "DoGet streams running now", state.streamsRunning());
    gauge("annflight_arrow_allocated_bytes", "Arrow memory held by the server now",
        state.arrowBytes());
    gauge("annflight_stream_allocated_bytes", "Arrow memory the DoGet streams hold now, what"
        + " the memory budget bounds", state.streamBytes());
    gauge("annflight_memory_budget_bytes", "Memory the streams' budget allows in flight",
        state.budgetBytes());
    gauge("annflight_open_stores", "Stores the catalogue holds open", state.openStores());
    gauge("annflight_projection_cache_bytes", "Heap holding projected sparse rows now"
        + " (--projection-cache-mb)", state.projectionCacheBytes());
    gauge("annflight_obs_cache_bytes", "Heap holding obs columns (labels, obs_filter, label"
        + " weights) now (--obs-cache-mb)", state.obsCacheBytes());
  }

  private void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder().name(name).help(help)
        .callback(cb -> cb.call(value.getAsLong())).register(registry);
  }

  /** Serves {@code /metrics} on the given address and port (0 picks one). */
  public int serve(String host, int port) throws IOException {
    http = HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    return http.getPort();
  }

  @Override
  public void streamEnded(String collection, long rowsSent, long bytesSent, double seconds) {
    rows.labelValues(collection).inc(rowsSent);
    bytes.labelValues(collection).inc(bytesSent);
    streamSeconds.labelValues(collection).observe(seconds);
  }

  @Override
  public void budgetWaited(double seconds) {
    budgetWaitSeconds.observe(seconds);
  }

  /** Counts every Flight call when it completes. */
  public FlightServerMiddleware.Factory<FlightServerMiddleware> requestCounter() {
    return (CallInfo info, CallHeaders headers, RequestContext context) ->
        new FlightServerMiddleware() {
          @Override
          public void onBeforeSendingHeaders(CallHeaders outgoing) {}

          @Override
          public void onCallCompleted(CallStatus status) {
            requests.labelValues(info.method().name(), status.code().name()).inc();
          }

          @Override
          public void onCallErrored(Throwable err) {}
        };
  }

  public static final FlightServerMiddleware.Key<FlightServerMiddleware> KEY =
      FlightServerMiddleware.Key.of("annflight-metrics");

  @Override
  public void close() {
    io.annflight.store.source.ObjectStoreMetrics.global().stopListening(objectGets);
    if (http != null) {
      http.close();
    }
  }
}
