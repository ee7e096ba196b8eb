package io.annflight.cli;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreInfo;
import io.annflight.flight.AnnflightServer;
import io.annflight.flight.Security;
import io.annflight.runtime.StreamLimits;
import java.time.Duration;
import sun.misc.Signal;
import io.annflight.flight.CollectionRegistry;
import io.annflight.flight.ConfiguredCollection;
import io.annflight.flight.DataRoot;
import io.annflight.flight.EndpointPlanner;
import io.annflight.flight.RequestResolver;
import io.annflight.store.AnnDataStores;
import io.annflight.schema.RequestJson;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code serve}: starts the Flight server and blocks until it is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {
        "Serves AnnData stores over Arrow Flight.",
        "With no PATH, --config or --data-root, serves the small demo collection shipped in "
            + "the jar."},
    footer = {"", "Examples:",
        "  serve                                   # the demo on 127.0.0.1:8815",
        "  serve --config server.yaml --data-root /data/atlas",
        "  serve --name pbmc a.h5ad b.zarr         # two files as collection 'pbmc'"})
public final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all).")
  String host;

  @Option(names = "--port", defaultValue = "8815",
      description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--locations", paramLabel = "URI,URI,...", split = ",",
      description = "The replicas that serve the same files and configuration, this server"
          + " among them (grpc+tcp://host:port): endpoints are spread over them, each listing"
          + " the others as alternates. Overrides the config file's locations.")
  List<String> locations;

  @Option(names = "--advertise", paramLabel = "HOST",
      description = "Host name put in endpoint locations (default: --host, or 127.0.0.1 when "
          + "listening on all addresses).")
  String advertise;

  @Option(names = "--data-root", paramLabel = "DIR",
      description = "Directory, or bucket prefix (s3://bucket/prefix), that request \"paths\""
          + " are relative to. Without it, clients can only ask for configured collections.")
  String dataRoot;

  @picocli.CommandLine.Mixin
  ObjectStorageOptions objectStorage = new ObjectStorageOptions();

  @Option(names = "--config", paramLabel = "FILE",
      description = "YAML or JSON file naming collections, their paths and default options.")
  Path config;

  @Option(names = "--name", defaultValue = "default",
      description = "Collection name for the PATHs given on the command line "
          + "(default: ${DEFAULT-VALUE}).")
  String name;

  @Option(names = "--max-rows-per-endpoint", paramLabel = "N",
      defaultValue = "" + EndpointPlanner.DEFAULT_MAX_ROWS_PER_ENDPOINT,
      description = "Stores with more rows are split over several endpoints unless a request "
          + "sets rows_per_endpoint (default: ${DEFAULT-VALUE}).")
  long maxRowsPerEndpoint;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain: serve grpc+tls (with --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "PEM CA certificate(s): clients must present a certificate it signed (mTLS).")
  Path tlsClientCa;

  @Option(names = "--auth-tokens", paramLabel = "FILE",
      description = "YAML or JSON file of accepted bearer tokens (as SHA-256) and what each may"
          + " read; re-read when it changes. See README, Running it for others.")
  Path authTokens;

  /** Rows of one warm-up stream: enough batches for the JIT, short enough to vary. */
  private static final long WARMUP_ROWS_PER_STREAM = 20_000;

  @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "5",
      description = "Before health says SERVING, read short streams of the configured"
          + " collections (dense and CSR, in order and shuffled, lz4) through a loopback port"
          + " for S seconds, so the first clients get compiled code; 0: none (default:"
          + " ${DEFAULT-VALUE}).")
  long warmupSeconds;

  @Option(names = "--drain-seconds", paramLabel = "S", defaultValue = "30",
      description = "On SIGTERM (or SIGINT): refuse new calls, let running streams finish for up"
          + " to this long, then cancel them and exit 0 (default: ${DEFAULT-VALUE}).")
  long drainSeconds;

  @Option(names = "--metrics-port", paramLabel = "P",
      description = "Serve Prometheus metrics as text at http://HOST:P/metrics (same --host).")
  Integer metricsPort;

  @Option(names = "--max-streams", paramLabel = "N", defaultValue = "0",
      description = "DoGet streams the server runs at once; more are RESOURCE_EXHAUSTED"
          + " (default: 0, no limit).")
  int maxStreams;

  @Option(names = "--max-streams-per-client", paramLabel = "N", defaultValue = "0",
      description = "Streams one client (its token; all callers without tokens count as one)"
          + " runs at once (default: 0, no limit).")
  int maxStreamsPerClient;

  @Option(names = "--max-open-stores", paramLabel = "N", defaultValue = "0",
      description = "Stores kept open at most; the least recently used closes once no stream"
          + " reads it (default: 0, no limit; keep it above the stores of the largest request).")
  int maxOpenStores;

  @Option(names = "--projection-cache-mb", paramLabel = "MB",
      description = "Memory for projected sparse rows (var_names or an inner join keeping at most"
          + " half of a CSR store's genes), kept across streams so that later epochs read only"
          + " the kept entries; 0: none (default: 256, at most 1/8 of the heap).")
  Long projectionCacheMb;

  @Option(names = "--obs-cache-mb", paramLabel = "MB",
      description = "Memory for obs columns read for requests (labels, obs_filter, label"
          + " weights), kept across requests; a column that does not fit is read again when"
          + " needed; 0: none (default: 256, at most 1/8 of the heap).")
  Long obsCacheMb;

  @Option(names = "--shared-memory", negatable = true, defaultValue = "true",
      fallbackValue = "true",
      description = "Let a client on this host take a DoGet's batches through a ring of shared"
          + " memory it names (/dev/shm/annflight-*), instead of gRPC (default: on).")
  boolean sharedMemory = true;

  @Option(names = "--insecure",
      description = "Listen beyond loopback without TLS or tokens and say nothing about it.")
  boolean insecure;

  @Option(names = {"-v", "--verbose"},
      description = "Log each stream's rows, bytes and time (debug level).")
  boolean verbose;

  @Parameters(paramLabel = "PATH", arity = "0..*",
      description = "Stores (.h5ad files, .zarr directories) to serve as one collection.")
  List<Path> paths = new ArrayList<>();

  private long projectionCacheBytes() {
    return cacheBytes("--projection-cache-mb", projectionCacheMb,
        io.annflight.collection.CollectionEngine.DEFAULT_PROJECTION_CACHE_BYTES);
  }

  private long obsCacheBytes() {
    return cacheBytes("--obs-cache-mb", obsCacheMb,
        io.annflight.collection.ObsColumnCache.DEFAULT_BYTES);
  }

  /** A cache's size flag in MiB as bytes; {@code dflt} when not given. */
  private static long cacheBytes(String flag, Long mb, long dflt) {
    if (mb == null) {
      return dflt;
    }
    if (mb < 0 || mb > (Long.MAX_VALUE >> 20)) {
      throw new ConfigException(flag + " must be >= 0 and at most " + (Long.MAX_VALUE >> 20)
          + ", got " + mb);
    }
    return mb << 20;
  }

  @Override
  public Integer call() throws Exception {
    long projectionBytes = projectionCacheBytes();
    long obsBytes = obsCacheBytes();
    io.annflight.store.source.ObjectStores.configure(objectStorage.settings());
    if (verbose) {
      // Read by slf4j-simple when the stream logger is first created, i.e. after this line.
      System.setProperty("org.slf4j.simpleLogger.log.io.annflight.flight", "debug");
      // The streams' own lines (rows, bytes, time; why a shared-memory ring was not used).
      System.setProperty("org.slf4j.simpleLogger.log.io.annflight.runtime", "debug");
    }
    boolean demo = paths.isEmpty() && config == null && dataRoot == null;
    Setup setup = demo ? demoSetup() : setup();
    Security security = new Security(tlsCert, tlsKey, tlsClientCa, authTokens);
    warnIfExposed(security);
    try (AnnflightServer server = AnnflightServer.start(setup.resolver(), AnnDataStores::open,
        new AnnflightServer.Options(host, port, advertise, maxRowsPerEndpoint, security,
            metricsPort, new StreamLimits(maxStreams, maxStreamsPerClient), maxOpenStores,
            replicas(setup), projectionBytes, obsBytes, sharedMemory))) {
      logCollections(server, setup.resolver().registry());
      if (warmupSeconds > 0) {
        long t0 = System.nanoTime();
        LOG.info("warming up for {} s before serving (health NOT_SERVING meanwhile)",
            warmupSeconds);
        int streams = server.warmUp(Duration.ofSeconds(warmupSeconds),
            WARMUP_ROWS_PER_STREAM, Integer.MAX_VALUE);
        LOG.info("warm after {} ms ({} warm-up streams)", (System.nanoTime() - t0) / 1_000_000,
            streams);
      }
      server.serving();
      if (server.metricsPort() >= 0) {
        LOG.info("metrics on http://{}:{}/metrics", host, server.metricsPort());
      }
      LOG.info("annflight {} listening on {}", AnnflightCommand.version(), server.location()
          .getUri());
      if (demo) {
        System.out.println(demoHelp(server));
      }
      Duration drain = Duration.ofSeconds(Math.max(0, drainSeconds));
      // Drains on a JVM shutdown too (SIGHUP, System.exit): close is idempotent.
      Runtime.getRuntime().addShutdownHook(new Thread(() -> server.drain(drain),
          "annflight-shutdown"));
      for (String name : new String[] {"TERM", "INT"}) {
        // An orderly stop is a success: drain, then exit 0 rather than 128 + the signal.
        Signal.handle(new Signal(name), sig -> new Thread(() -> {
          LOG.info("SIG{}: draining for up to {} s", name, drain.toSeconds());
          boolean finished = server.drain(drain);
          LOG.info(finished ? "stopped" : "stopped; streams still running were cancelled");
          System.exit(0);
        }, "annflight-drain").start());
      }
      server.awaitTermination();
    }
    return 0;
  }

  /**
   * Anyone who reaches a non-loopback port reads what the server serves unless TLS and tokens
   * say otherwise: say so at startup, naming the flags, unless --insecure.
   */
  private void warnIfExposed(Security security) {
    boolean loopback = host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
    if (loopback || insecure) {
      return;
    }
    if (!security.tls()) {
      LOG.warn("listening on {} without TLS: tokens and data travel in clear text;"
          + " use --tls-cert and --tls-key (or --insecure to silence this)", host);
    }
    if (security.tokens() == null) {
      LOG.warn("listening on {} without --auth-tokens: anyone who reaches the port reads every"
          + " collection{} (or --insecure to silence this)", host,
          dataRoot != null ? " and every store under " + dataRoot : "");
    }
  }

  /** The replicas' locations: --locations, else the config file's, else none. */
  private List<org.apache.arrow.flight.Location> replicas(Setup setup) {
    List<String> uris = locations != null ? locations : setup.locations();
    List<org.apache.arrow.flight.Location> out = new ArrayList<>();
    for (String uri : uris) {
      try {
        out.add(new org.apache.arrow.flight.Location(uri.trim()));
      } catch (java.net.URISyntaxException | IllegalArgumentException e) {
        throw new ConfigException("replica location \"" + uri + "\" is not a URI like"
            + " grpc+tcp://host:port: " + e.getMessage());
      }
    }
    return out;
  }

  private record Setup(RequestResolver resolver, List<String> locations) {}

  /** --data-root as a path: a directory, or a prefix in a bucket. */
  private Path dataRootPath() {
    if (dataRoot == null) {
      return null;
    }
    if (io.annflight.store.source.ObjectStore.isObjectUri(dataRoot)) {
      try {
        return io.annflight.store.source.ObjectStores.path(dataRoot);
      } catch (IllegalArgumentException e) {
        throw new ConfigException("--data-root: " + e.getMessage());
      }
    }
    try {
      return Path.of(dataRoot);
    } catch (java.nio.file.InvalidPathException e) {
      throw new ConfigException("--data-root \"" + dataRoot + "\" is not a path: "
          + e.getMessage());
    }
  }

  private Setup setup() {
    Path root = dataRootPath();
    List<ConfiguredCollection> collections = new ArrayList<>();
    List<String> replicas = List.of();
    if (config != null) {
      ServerConfig c = ServerConfig.load(config, root);
      root = c.dataRoot();
      collections.addAll(c.collections());
      replicas = c.locations();
    }
    if (!paths.isEmpty()) {
      Path cwd = Path.of("").toAbsolutePath();
      var options = RequestJson.MAPPER.createObjectNode();
      var list = options.putArray("paths");
      paths.forEach(p -> list.add(p.toString()));
      collections.add(ServerConfig.collection(Path.of("command line"), name, options, cwd));
    }
    return new Setup(new RequestResolver(new CollectionRegistry(collections),
        root == null ? null : DataRoot.of(root)), replicas);
  }

  private Setup demoSetup() {
    Path dir = DemoCollection.extract(AnnflightCommand.version());
    ServerConfig c = ServerConfig.load(dir.resolve(DemoCollection.CONFIG), dir);
    return new Setup(new RequestResolver(new CollectionRegistry(c.collections()),
        DataRoot.of(dir)), List.of());
  }

  /** Plans each collection once at startup: errors show now, and the log says what is served. */
  private static void logCollections(AnnflightServer server, CollectionRegistry registry) {
    for (ConfiguredCollection c : registry.all()) {
      try (CollectionPlan.Lease lease = server.producer().lease(c.request())) {
        CollectionPlan plan = lease.plan();
        long[] shape = plan.queries().shape();
        LOG.info("collection {}: {} stores, n_obs={}, n_vars={}", c.name(),
            plan.stores().size(), shape[0], shape[1]);
        for (StoreInfo s : plan.stores()) {
          LOG.info("  {} ({}): n_obs={} n_vars={} layers={} obsm={} obs={}{}", s.path(),
              s.format(), s.nObs(), s.nVars(), s.layers(), s.obsm(), s.obsColumns(),
              s.hasRaw() ? " raw" : "");
        }
      } catch (RuntimeException e) {
        LOG.error("collection {} cannot be served: {}", c.name(), e.getMessage());
      }
    }
  }

  private static String demoHelp(AnnflightServer server) {
    String uri = server.location().getUri().toString();
    return String.join("\n",
        "",
        "Serving the demo collection 'demo' (pbmc_a.h5ad + pbmc_b.zarr) at " + uri,
        "Query it from Python (pip install pyarrow):",
        "",
        "  import json, pyarrow.flight as fl",
        "  client = fl.connect(\"" + uri + "\")",
        "  req = {\"collection\": \"demo\", \"obs_keys\": [\"cell_type\"]}",
        "  info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)))",
        "  table = client.do_get(info.endpoints[0].ticket).read_all()",
        "  print(info.total_records, table.schema)",
        "  shape = next(client.do_action(fl.Action(\"shape\", json.dumps({\"collection\": "
            + "\"demo\"}).encode()))).body.to_pybytes()",
        "",
        "Stop with Ctrl-C.");
  }
}
