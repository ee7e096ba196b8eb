package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.flight.access.TokenAuthenticator;
import io.annflight.store.AnnDataStores;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightCallHeaders;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.HeaderCallOption;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS (certificates made for the test with openssl), mTLS, and bearer tokens with per-collection
 * grants: every method without a token, with a wrong one, and with one that lacks the grant,
 * including a hand-made ticket; nothing is served that is not granted.
 */
class SecureServerTest {

  @TempDir static Path pki;
  @TempDir Path tmp;
  BufferAllocator allocator;
  AnnflightServer server;

  @BeforeAll
  static void certificates() throws Exception {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
        "server.pem", "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
        "ca.pem", "-days", "2", "-subj", "/CN=test client CA");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out",
        "client.csr", "-subj", "/CN=client");
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "client.pem", "-days", "2");
  }

  private static void openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("openssl %s: %s", String.join(" ", args), out).isZero();
  }

  @BeforeEach
  void data() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  private void start(Security security) throws IOException {
    RequestResolver resolver = TestCollections.overDense(tmp, "test", "other");
    server = AnnflightServer.start(resolver, AnnDataStores::open,
        new AnnflightServer.Options("127.0.0.1", 0, null, 50, security), allocator);
  }

  private FlightClient tlsClient(boolean withClientCertificate) throws IOException {
    FlightClient.Builder b = FlightClient.builder(allocator,
        Location.forGrpcTls("127.0.0.1", server.port()));
    try (InputStream ca = Files.newInputStream(pki.resolve("server.pem"))) {
      b.trustedCertificates(ca);
      if (withClientCertificate) {
        try (InputStream cert = Files.newInputStream(pki.resolve("client.pem"));
            InputStream key = Files.newInputStream(pki.resolve("client.key"))) {
          b.clientCertificate(cert, key);
          return b.build();
        }
      }
      return b.build();
    }
  }

  @Test
  void tlsServesGrpcTlsAndRefusesPlaintext() throws Exception {
    start(new Security(pki.resolve("server.pem"), pki.resolve("server.key"), null, null));
    assertThat(server.location().getUri().getScheme()).isEqualTo("grpc+tls");
    try (FlightClient client = tlsClient(false)) {
      FlightInfo info = client.getInfo(FlightDescriptor.path("test"));
      assertThat(info.getEndpoints().get(0).getLocations().get(0).getUri().getScheme())
          .isEqualTo("grpc+tls");
      assertThat(rows(client, info, new CallOption[0])).isEqualTo(60);
    }
    try (FlightClient plain = FlightClient.builder(allocator,
        Location.forGrpcInsecure("127.0.0.1", server.port())).build()) {
      assertThatThrownBy(() -> plain.getInfo(FlightDescriptor.path("test")))
          .isInstanceOf(FlightRuntimeException.class);
    }
  }

  @Test
  void mutualTlsNeedsAClientCertificateTheCaSigned() throws Exception {
    start(new Security(pki.resolve("server.pem"), pki.resolve("server.key"),
        pki.resolve("ca.pem"), null));
    try (FlightClient client = tlsClient(true)) {
      assertThat(rows(client, client.getInfo(FlightDescriptor.path("test")), new CallOption[0]))
          .isEqualTo(60);
    }
    try (FlightClient anonymous = tlsClient(false)) {
      assertThatThrownBy(() -> anonymous.getInfo(FlightDescriptor.path("test")))
          .isInstanceOf(FlightRuntimeException.class);
    }
  }

  @Test
  void tokensAuthenticateAndGrantsDecideWhatIsRead() throws Exception {
    Path tokens = tokenFile("alice", "s3cret-a", "[\"test\"]", false);
    start(new Security(null, null, null, tokens));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      CallOption alice = bearer("s3cret-a");
      CallOption bob = bearer("s3cret-b");
      // No token, or an unknown one: nothing at all.
      for (CallOption[] who : List.of(new CallOption[0], new CallOption[] {bearer("wrong")})) {
        assertCode(() -> client.getInfo(FlightDescriptor.path("test"), who),
            FlightStatusCode.UNAUTHENTICATED);
        assertCode(() -> client.listFlights(Criteria.ALL, who).iterator().hasNext(),
            FlightStatusCode.UNAUTHENTICATED);
        assertCode(() -> client.doAction(new Action("shape",
            "{\"collection\": \"test\"}".getBytes(StandardCharsets.UTF_8)), who).hasNext(),
            FlightStatusCode.UNAUTHENTICATED);
      }
      // alice reads "test", sees only it, and nothing else.
      FlightInfo info = client.getInfo(FlightDescriptor.path("test"), alice);
      assertThat(rows(client, info, new CallOption[] {alice})).isEqualTo(60);
      List<String> listed = new ArrayList<>();
      client.listFlights(Criteria.ALL, alice).forEach(f ->
          listed.add(f.getDescriptor().getPath().get(0)));
      assertThat(listed).containsExactly("test");
      assertCode(() -> client.getInfo(FlightDescriptor.path("other"), alice),
          FlightStatusCode.UNAUTHORIZED);
      assertCode(() -> client.getInfo(command("{\"paths\": [\"dense.h5ad\"]}"), alice),
          FlightStatusCode.UNAUTHORIZED);
      assertCode(() -> client.getSchema(FlightDescriptor.path("other"), alice),
          FlightStatusCode.UNAUTHORIZED);
      assertCode(() -> client.doAction(new Action("shape",
          "{\"paths\": [\"dense.h5ad\"]}".getBytes(StandardCharsets.UTF_8)), alice).hasNext(),
          FlightStatusCode.UNAUTHORIZED);
      // A hand-made ticket naming what alice lacks is refused like a request.
      Ticket forged = new Ticket(("{\"request\": {\"paths\": [\"dense.h5ad\"]}, \"start\": 0,"
          + " \"stop\": 5}").getBytes(StandardCharsets.UTF_8));
      assertCode(() -> {
        try (FlightStream s = client.getStream(forged, alice)) {
          s.next();
        }
      }, FlightStatusCode.UNAUTHORIZED);
      // bob's token is not in the file.
      assertCode(() -> client.getInfo(FlightDescriptor.path("test"), bob),
          FlightStatusCode.UNAUTHENTICATED);
    }
  }

  @Test
  void theWarmUpReadsEveryCollectionOfATokenServerThroughItsOwnLoopbackPort() throws Exception {
    // alice may read "test" only; the warm-up reads both collections all the same, through a
    // port of its own that refuses any other bearer, and leaves the server's grants as they
    // were. The rows it reads are not counted (test_shutdown.py checks the metrics).
    Path tokens = tokenFile("alice", "s3cret-a", "[\"test\"]", false);
    start(new Security(null, null, null, tokens));
    // One pass: two collections x (dense, csr) x (in order, block-shuffled) x (plain, lz4).
    assertThat(server.producer().warmUp(java.time.Duration.ofMinutes(5), 20, 1)).isEqualTo(16);
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertCode(() -> client.getInfo(FlightDescriptor.path("other"), bearer("s3cret-a")),
          FlightStatusCode.UNAUTHORIZED);
      assertThat(rows(client, client.getInfo(FlightDescriptor.path("test"), bearer("s3cret-a")),
          new CallOption[] {bearer("s3cret-a")})).isEqualTo(60);
    }
    org.apache.arrow.flight.auth2.CallHeaderAuthenticator onlyUs =
        LoopbackWarmup.onlyThisProcess("Bearer secret", "me");
    org.apache.arrow.flight.FlightCallHeaders headers =
        new org.apache.arrow.flight.FlightCallHeaders();
    headers.insert("authorization", "Bearer guess");
    assertCode(() -> onlyUs.authenticate(headers), FlightStatusCode.UNAUTHENTICATED);
    assertCode(() -> onlyUs.authenticate(new org.apache.arrow.flight.FlightCallHeaders()),
        FlightStatusCode.UNAUTHENTICATED);
    org.apache.arrow.flight.FlightCallHeaders right =
        new org.apache.arrow.flight.FlightCallHeaders();
    right.insert("authorization", "Bearer secret");
    assertThat(onlyUs.authenticate(right).getPeerIdentity()).isEqualTo("me");
  }

  @Test
  void aChangedTokenFileIsReadAgain() throws Exception {
    Path tokens = tokenFile("alice", "s3cret-a", "[\"test\"]", false);
    TokenAuthenticator auth = new TokenAuthenticator(tokens, 0);
    assertThat(auth.authenticate(headers("s3cret-a")).getPeerIdentity()).isEqualTo("alice");
    Files.writeString(tokens, entries(new String[] {"bob", "s3cret-b", "[\"*\"]", "true"}));
    Files.setLastModifiedTime(tokens, java.nio.file.attribute.FileTime.fromMillis(
        Files.getLastModifiedTime(tokens).toMillis() + 5_000));
    assertThat(auth.authenticate(headers("s3cret-b")).getPeerIdentity()).isEqualTo("bob");
    assertThat(auth.grants("bob").paths()).isTrue();
    assertThatThrownBy(() -> auth.authenticate(headers("s3cret-a")))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("revoked");
  }

  @Test
  void usersSignInWithTheBasicHandshakeAndGetABearerTokenWithTheirGrants() throws Exception {
    Path tokens = tmp.resolve("users.yaml");
    Files.writeString(tokens, users("carol", "pa55 word", "[\"test\"]"));
    start(new Security(null, null, null, tokens));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertCode(() -> client.authenticateBasicToken("carol", "wrong"),
          FlightStatusCode.UNAUTHENTICATED);
      assertCode(() -> client.authenticateBasicToken("mallory", "pa55 word"),
          FlightStatusCode.UNAUTHENTICATED);
      CallOption carol = client.authenticateBasicToken("carol", "pa55 word").orElseThrow();
      FlightInfo info = client.getInfo(FlightDescriptor.path("test"), carol);
      assertThat(rows(client, info, new CallOption[] {carol})).isEqualTo(60);
      assertCode(() -> client.getInfo(FlightDescriptor.path("other"), carol),
          FlightStatusCode.UNAUTHORIZED);
      // Taking the user out of the file revokes the tokens it was issued.
      Files.writeString(tokens, users("dave", "other", "[\"*\"]"));
      Files.setLastModifiedTime(tokens, java.nio.file.attribute.FileTime.fromMillis(
          Files.getLastModifiedTime(tokens).toMillis() + 5_000));
      Thread.sleep(TokenAuthenticator.RECHECK_NANOS / 1_000_000 + 100);
      assertCode(() -> client.getInfo(FlightDescriptor.path("test"), carol),
          FlightStatusCode.UNAUTHENTICATED);
    }
  }

  @Test
  void anIssuedTokenExpires() throws Exception {
    Path tokens = tmp.resolve("users.yaml");
    Files.writeString(tokens, users("carol", "pw", "[\"test\"]")
        + "issued_token_seconds: 3\n");
    // The authenticator's own clock, moved by the test: no wall time.
    AtomicLong now = new AtomicLong();
    TokenAuthenticator auth = new TokenAuthenticator(tokens, 0, now::get);
    FlightCallHeaders basic = new FlightCallHeaders();
    basic.insert("authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
        "carol:pw".getBytes(StandardCharsets.UTF_8)));
    var result = auth.authenticate(basic);
    assertThat(result.getPeerIdentity()).isEqualTo("carol");
    FlightCallHeaders answer = new FlightCallHeaders();
    result.appendToOutgoingHeaders(answer);
    String token = answer.get("authorization").substring("Bearer ".length());
    assertThat(auth.authenticate(headers(token)).getPeerIdentity()).isEqualTo("carol");
    assertThat(auth.grants("carol").allows("test")).isTrue();
    now.addAndGet(3_000_000_000L);
    assertThat(auth.authenticate(headers(token)).getPeerIdentity()).isEqualTo("carol");
    now.incrementAndGet(); // past the token's life
    assertThatThrownBy(() -> auth.authenticate(headers(token)))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("expired");
  }

  @Test
  void badUserEntriesAreRefusedNamingTheEntry() throws Exception {
    Path f = tmp.resolve("bad.yaml");
    Files.writeString(f, "users:\n  - name: eve\n    password: plain-text\n");
    assertThatThrownBy(() -> io.annflight.flight.access.TokenFile.load(f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("users[0] (eve)").hasMessageContaining("pbkdf2-sha256")
        .hasMessageNotContaining("plain-text");
    Files.writeString(f, "users:\n  - name: eve\n    password: \""
        + io.annflight.flight.access.PasswordHash.create("x".toCharArray(), 10_000)
            .replace("$10000$", "$100$") + "\"\n");
    assertThatThrownBy(() -> io.annflight.flight.access.TokenFile.load(f))
        .hasMessageContaining("too few");
  }

  /** A token file with one user (cheap hashing: tests need no 600,000 iterations). */
  private static String users(String name, String password, String collections) {
    return "users:\n  - name: " + name + "\n    password: \""
        + io.annflight.flight.access.PasswordHash.create(password.toCharArray(), 10_000)
        + "\"\n    collections: " + collections + "\n";
  }

  private static FlightCallHeaders headers(String token) {
    FlightCallHeaders h = new FlightCallHeaders();
    h.insert("authorization", "Bearer " + token);
    return h;
  }

  private static CallOption bearer(String token) {
    return new HeaderCallOption(headers(token));
  }

  private Path tokenFile(String name, String token, String collections, boolean paths)
      throws Exception {
    Path f = tmp.resolve("tokens.yaml");
    Files.writeString(f, entries(new String[] {name, token, collections, String.valueOf(paths)}));
    return f;
  }

  private static String entries(String[]... tokens) throws Exception {
    StringBuilder sb = new StringBuilder("tokens:\n");
    for (String[] t : tokens) {
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(t[1].getBytes(StandardCharsets.UTF_8)));
      sb.append("  - name: ").append(t[0]).append("\n    sha256: ").append(hash)
          .append("\n    collections: ").append(t[2]).append("\n    paths: ").append(t[3])
          .append('\n');
    }
    return sb.toString();
  }

  private static FlightDescriptor command(String json) {
    return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
  }

  private static long rows(FlightClient client, FlightInfo info, CallOption[] options)
      throws Exception {
    long n = 0;
    for (var e : info.getEndpoints()) {
      try (FlightStream s = client.getStream(e.getTicket(), options)) {
        while (s.next()) {
          n += s.getRoot().getRowCount();
        }
      }
    }
    return n;
  }

  private static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
      FlightStatusCode code) {
    assertThatThrownBy(call).isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code()).isEqualTo(code));
  }
}
