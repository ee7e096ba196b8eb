package io.annflight.flight;

import io.annflight.flight.access.Grants;
import io.annflight.flight.access.TokenAuthenticator;
import io.annflight.flight.metrics.ServerMetrics;
import io.annflight.runtime.StreamLimits;
import io.annflight.runtime.StreamRuntime;

import io.annflight.schema.RequestLimits;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.ObsColumnCache;
import io.annflight.collection.StoreCatalog;
import io.annflight.store.AnnDataStore;
import io.annflight.store.StoreResources;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.util.AutoCloseables;

/**
 * A running annflight Flight server: the stores it opened, the engine, the stream threads and the
 * gRPC server, closed together.
 */
public final class AnnflightServer implements AutoCloseable {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(AnnflightServer.class);
  private final BufferAllocator allocator;
  private final StoreCatalog catalog;
  private final StreamRuntime runtime;
  private final FlightServer server;
  private final AnnflightProducer producer;
  private final ServerMetrics metrics;
  private final Opener opener;
  private final Options options;
  private volatile int metricsPort = -1;
  private final boolean ownsAllocator;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** Where endpoints are served: the replicas, or this server alone. */
  private volatile List<Location> advertised = List.of();
  private volatile Location self;
  /** grpc.health.v1.Health on the Flight port: NOT_SERVING until {@link #serving()}. */
  private final HealthStatusManager health = new HealthStatusManager();
  /** The name clients probe: the Flight service's; "" is the whole server. */
  static final String FLIGHT_SERVICE = "arrow.flight.protocol.FlightService";

  /** Opens a store with the server's shared reader resources ({@code AnnDataStores::open}). */
  @FunctionalInterface
  public interface Opener
      extends java.util.function.BiFunction<Path, StoreResources, AnnDataStore> {}

  /**
   * What a server needs besides its collections.
   *
   * @param metricsPort where {@code /metrics} is served (0 picks a port); null for none
   * @param maxOpenStores the most stores kept open, least recently used closed first (0: all)
   * @param replicas the servers that serve the same files and configuration, this one among
   *     them: endpoints are spread over them (empty: every endpoint here)
   * @param projectionCacheBytes bytes of projected sparse rows kept across streams (0: none)
   * @param obsCacheBytes bytes of obs columns (labels, filters) kept across requests (0: none)
   * @param sharedMemory whether a same-host client's DoGet batches may go through a ring of
   *     shared memory it names (docs/reference/shared-memory.md)
   */
  public record Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
      Security security, Integer metricsPort, StreamLimits limits, int maxOpenStores,
      List<Location> replicas, long projectionCacheBytes, long obsCacheBytes,
      boolean sharedMemory) {
    public Options {
      if (obsCacheBytes < 0) {
        throw new IllegalArgumentException("the obs column cache needs >= 0 bytes, got "
            + obsCacheBytes);
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      if (projectionCacheBytes < 0) {
        throw new IllegalArgumentException("the projection cache needs >= 0 bytes, got "
            + projectionCacheBytes);
      }
      java.util.Objects.requireNonNull(security, "security");
      java.util.Objects.requireNonNull(limits, "limits");
      replicas = List.copyOf(replicas);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security, Integer metricsPort, StreamLimits limits, int maxOpenStores,
        List<Location> replicas, long projectionCacheBytes, long obsCacheBytes) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, metricsPort, limits,
          maxOpenStores, replicas, projectionCacheBytes, obsCacheBytes, true);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security, Integer metricsPort, StreamLimits limits, int maxOpenStores,
        List<Location> replicas, long projectionCacheBytes) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, metricsPort, limits,
          maxOpenStores, replicas, projectionCacheBytes, ObsColumnCache.DEFAULT_BYTES);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security, Integer metricsPort, StreamLimits limits, int maxOpenStores,
        List<Location> replicas) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, metricsPort, limits,
          maxOpenStores, replicas, CollectionEngine.DEFAULT_PROJECTION_CACHE_BYTES);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security, Integer metricsPort, StreamLimits limits, int maxOpenStores) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, metricsPort, limits,
          maxOpenStores, List.of());
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, Security.NONE, null,
          StreamLimits.NONE, 0);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, null, StreamLimits.NONE, 0);
    }

    public Options(String host, int port, String advertiseHost, long maxRowsPerEndpoint,
        Security security, Integer metricsPort, StreamLimits limits) {
      this(host, port, advertiseHost, maxRowsPerEndpoint, security, metricsPort, limits, 0);
    }

    public static Options local(int port) {
      return new Options("127.0.0.1", port, null,
          EndpointPlanner.DEFAULT_MAX_ROWS_PER_ENDPOINT);
    }
  }

  private AnnflightServer(RequestResolver resolver, Opener opener,
      Options options, BufferAllocator allocator, boolean ownsAllocator) {
    this.allocator = allocator;
    this.ownsAllocator = ownsAllocator;
    this.opener = opener;
    this.options = options;
    GrpcLogFilter.install();
    // Stream threads, memory, caches and decoder threads belong to this server's runtime and
    // close with it.
    this.metrics = new ServerMetrics();
    this.runtime = new StreamRuntime(allocator, options.limits(), metrics,
        t -> FlightErrors.toFlight(t, resolver::redact));
    this.catalog = new StoreCatalog(p -> opener.apply(p, runtime.storeResources()),
        StoreCatalog.DEFAULT_OPEN_TIMEOUT, options.maxOpenStores(),
        new ObsColumnCache(options.obsCacheBytes()));
    CollectionEngine engine = new CollectionEngine(catalog, options.projectionCacheBytes(),
        runtime.storeResources().parallel());
    metrics.watch(new ServerMetrics.State(runtime::running, allocator::getAllocatedMemory,
        runtime::allocatedBytes, runtime::budgetBytes, catalog::size,
        engine::projectionCacheBytes, catalog.obsColumns()::usedBytes));
    Security security = options.security();
    TokenAuthenticator tokens = security.tokens() == null ? null
        : new TokenAuthenticator(security.tokens());
    this.producer = new AnnflightProducer(resolver, engine,
        new EndpointPlanner(options.maxRowsPerEndpoint()), () -> advertised, allocator, runtime,
        tokens == null ? peer -> Grants.ALL : tokens::grants);
    FlightServer.Builder builder = FlightServer.builder(allocator,
            security.location(options.host(), options.port()), producer)
        // Above the largest ticket, so that one a little too large is refused by our check,
        // which names the bound, and a huge one by gRPC before it is buffered whole.
        .maxInboundMessageSize(RequestLimits.MAX_TICKET_BYTES + (1 << 20));
    try {
      security.configure(builder);
    } catch (IOException e) {
      throw new IllegalArgumentException("TLS files cannot be read: " + e.getMessage(), e);
    }
    if (tokens != null) {
      builder.headerAuthenticator(tokens);
    }
    builder.middleware(ServerMetrics.KEY, metrics.requestCounter());
    builder.middleware(SharedMemoryHeader.KEY,
        SharedMemoryHeader.factory(options.sharedMemory()));
    setHealth(HealthCheckResponse.ServingStatus.NOT_SERVING);
    // The health service beside Flight's on the same port (flight-core hands over its builder).
    builder.transportHint("grpc.builderConsumer",
        (java.util.function.Consumer<NettyServerBuilder>) b -> b.addService(
            health.getHealthService()));
    this.server = builder.build();
  }

  /**
   * Starts listening. The advertised location is {@code advertiseHost} (default: the bind host,
   * or 127.0.0.1 when binding every interface) with the port actually bound.
   *
   * @param allocator owned by the caller, who closes it after this server
   */
  public static AnnflightServer start(RequestResolver resolver,
      Opener opener, Options options, BufferAllocator allocator)
      throws IOException {
    return start(resolver, opener, options, allocator, false);
  }

  /** Starts with its own root allocator, closed with the server. */
  public static AnnflightServer start(RequestResolver resolver,
      Opener opener, Options options) throws IOException {
    return start(resolver, opener, options, new RootAllocator(), true);
  }

  private static AnnflightServer start(RequestResolver resolver,
      Opener opener, Options options, BufferAllocator allocator,
      boolean owns) throws IOException {
    AnnflightServer s;
    try {
      s = new AnnflightServer(resolver, opener, options, allocator, owns);
    } catch (RuntimeException e) {
      if (owns) {
        allocator.close();
      }
      throw e;
    }
    try {
      s.server.start();
      if (options.metricsPort() != null) {
        s.metricsPort = s.metrics.serve(options.host(), options.metricsPort());
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    String host = options.advertiseHost() != null ? options.advertiseHost()
        : isWildcard(options.host()) ? "127.0.0.1" : options.host();
    Location self = options.security().location(host, s.server.getPort());
    s.self = self;
    s.advertised = options.replicas().isEmpty() ? List.of(self) : options.replicas();
    if (!options.replicas().isEmpty() && !options.replicas().contains(self)) {
      LOG.warn("--locations does not list this server ({}): its endpoints all go to the"
          + " others", self.getUri());
    }
    return s;
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  public int port() {
    return server.getPort();
  }

  /** Where clients reach this server. */
  public Location location() {
    return self;
  }

  /**
   * Warms the server up before its first client ({@link LoopbackWarmup}): first on small stores
   * it writes itself ({@link WarmupCollections}), so the hot paths are warm whatever it serves
   * (a data root alone too), then on its configured collections, half the budget each (all of
   * it on the written stores when none is configured).
   *
   * @return the streams read
   */
  public int warmUp(java.time.Duration budget, long rowsPerStream, int maxPasses)
      throws IOException, InterruptedException {
    boolean configured = !producer.collectionNames().isEmpty();
    long t0 = System.nanoTime();
    int streams;
    try (WarmupCollections written = WarmupCollections.create();
        StoreCatalog stores = new StoreCatalog(p -> opener.apply(p, runtime.storeResources()))) {
      // Its own resolver (the written stores' directory as data root), engine and catalog:
      // nothing of these stores outlives the warm-up.
      AnnflightProducer warmup = new AnnflightProducer(
          new RequestResolver(new CollectionRegistry(List.of()),
              DataRoot.of(written.directory())),
          new CollectionEngine(stores, options.projectionCacheBytes(),
              runtime.storeResources().parallel()),
          new EndpointPlanner(options.maxRowsPerEndpoint()), () -> advertised, allocator,
          runtime, peer -> Grants.ALL);
      streams = LoopbackWarmup.run(warmup, allocator, configured ? budget.dividedBy(2) : budget,
          Math.min(rowsPerStream, WarmupCollections.ROWS_PER_STREAM), maxPasses,
          written::requests, WarmupCollections.someGenes());
    }
    if (configured) {
      java.time.Duration left = budget.minusNanos(System.nanoTime() - t0);
      if (!left.isNegative()) {
        streams += producer.warmUp(left, rowsPerStream, maxPasses);
      }
    }
    return streams;
  }

  public AnnflightProducer producer() {
    return producer;
  }

  public BufferAllocator allocator() {
    return allocator;
  }

  /** Blocks until the server shuts down. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** The port {@code /metrics} is served on; -1 when it is not. */
  public int metricsPort() {
    return metricsPort;
  }

  /** Health says SERVING: call once the configured collections are open. */
  public void serving() {
    setHealth(HealthCheckResponse.ServingStatus.SERVING);
  }

  private void setHealth(HealthCheckResponse.ServingStatus status) {
    health.setStatus("", status);
    health.setStatus(FLIGHT_SERVICE, status);
  }

  /**
   * Stops gracefully: health says NOT_SERVING, new calls are refused, running streams may
   * finish for up to {@code drain}; then whatever still runs is cancelled and everything closed.
   *
   * @return whether every call finished within the drain time
   */
  public boolean drain(java.time.Duration drain) {
    setHealth(HealthCheckResponse.ServingStatus.NOT_SERVING);
    boolean finished = false;
    try {
      server.shutdown();
      finished = server.awaitTermination(drain.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close();
    }
    return finished;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    try {
      server.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      // Streams first (they read the stores), then what they read and reported to.
      AutoCloseables.closeNoChecked(runtime);
      AutoCloseables.closeNoChecked(metrics);
      AutoCloseables.closeNoChecked(catalog);
      if (ownsAllocator) {
        allocator.close();
      }
    }
  }
}
