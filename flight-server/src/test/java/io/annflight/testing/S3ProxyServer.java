package io.annflight.testing;

import io.annflight.store.source.ObjectStoreSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * S3Proxy in a JVM of its own, on 127.0.0.1 and a free port, with a filesystem backend under
 * {@code target/} and SigV4 credentials made up per run: what the object-storage tests read
 * from. Its classpath is the one the test-s3proxy module copied. {@link #close} stops it.
 */
public final class S3ProxyServer implements AutoCloseable {
  private static final Duration START_LIMIT = Duration.ofSeconds(90);

  private final String identity = "test-" + UUID.randomUUID().toString().substring(0, 8);
  private final String secret = UUID.randomUUID().toString();
  private final Path baseDir;
  private final int port;
  private Process process;
  private final S3Client admin;

  private S3ProxyServer(Path baseDir, int port) {
    this.baseDir = baseDir;
    this.port = port;
    this.admin = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
        .endpointOverride(endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(credentials()).build();
  }

  /** Starts S3Proxy over an empty backend directory under {@code target/}. */
  public static S3ProxyServer start() throws IOException {
    // The port was free a moment ago; on a shared machine another process may take it before
    // S3Proxy binds it, and S3Proxy exits: then it starts again on another (3 tries).
    for (int attempt = 1; ; attempt++) {
      Path base = Path.of("target", "s3proxy-data", UUID.randomUUID().toString())
          .toAbsolutePath();
      Files.createDirectories(base);
      S3ProxyServer s = new S3ProxyServer(base, freePort());
      try {
        s.launch();
        return s;
      } catch (ExitedAtStart e) {
        s.close();
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  /** S3Proxy exited before it listened (its log says why: a port taken, most likely). */
  private static final class ExitedAtStart extends IllegalStateException {
    ExitedAtStart(String message) {
      super(message);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void launch() throws IOException {
    Path lib = Path.of("..", "test-s3proxy", "target", "lib").toAbsolutePath().normalize();
    if (!Files.isDirectory(lib)) {
      throw new IllegalStateException(lib + " is missing: build the test-s3proxy module first"
          + " (mvn install -pl test-s3proxy)");
    }
    Path conf = baseDir.resolveSibling(baseDir.getFileName() + "-conf");
    Files.createDirectories(conf);
    Path props = conf.resolve("s3proxy.properties");
    Files.writeString(props, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:" + port,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + identity,
        "s3proxy.credential=" + secret,
        "jclouds.provider=filesystem",
        "jclouds.filesystem.basedir=" + baseDir, ""));
    Path logback = conf.resolve("logback.xml");
    Files.writeString(logback, "<configuration><appender name=\"E\" class=\"ch.qos.logback.core"
        + ".ConsoleAppender\"><target>System.err</target><encoder><pattern>s3proxy %level"
        + " %msg%n</pattern></encoder></appender><root level=\"WARN\"><appender-ref ref=\"E\"/>"
        + "</root></configuration>");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    process = new ProcessBuilder(List.of(java.toString(), "-Xmx256m",
        "-Dlogback.configurationFile=" + logback, "-cp", lib + "/*",
        "org.gaul.s3proxy.Main", "--properties", props.toString()))
        .redirectErrorStream(true)
        .redirectOutput(conf.resolve("s3proxy.log").toFile())
        .start();
    long deadline = System.nanoTime() + START_LIMIT.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new ExitedAtStart("S3Proxy exited with " + process.exitValue()
            + "; see " + conf.resolve("s3proxy.log"));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          close();
          throw new IllegalStateException("S3Proxy did not listen within " + START_LIMIT);
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(ie);
        }
      }
    }
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public int port() {
    return port;
  }

  public String identity() {
    return identity;
  }

  public String secret() {
    return secret;
  }

  public StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(identity, secret));
  }

  /** Settings reaching this S3Proxy (through {@code endpoint}), caches in memory only. */
  public ObjectStoreSettings settings(URI endpoint) {
    return ObjectStoreSettings.defaults().withEndpoint(endpoint, "us-east-1", true)
        .withCredentials(credentials());
  }

  public ObjectStoreSettings settings() {
    return settings(endpoint());
  }

  /** A client for the test's own uploads and changes. */
  public S3Client admin() {
    return admin;
  }

  public void createBucket(String bucket) {
    admin.createBucket(b -> b.bucket(bucket));
  }

  public void put(String bucket, String key, byte[] bytes) {
    admin.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes));
  }

  /** Uploads a file, or a directory with everything under it, as {@code prefix/name...}. */
  public void upload(Path from, String bucket, String key) {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          String rel = from.relativize(p).toString();
          String k = rel.isEmpty() ? key : key + "/" + rel;
          admin.putObject(b -> b.bucket(bucket).key(k), RequestBody.fromFile(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops S3Proxy (as a store that goes away); nothing is left listening. */
  @Override
  public void close() {
    admin.close();
    stop();
  }

  /** Stops the process, waiting until it is gone. */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
