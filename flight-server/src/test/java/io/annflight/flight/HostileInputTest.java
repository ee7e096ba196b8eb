package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.schema.RequestJson;
import io.annflight.schema.RequestLimits;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import io.annflight.testing.LocalFlight;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator's mistakes and an attacker's requests get: symbolic links and FIFOs inside
 * stores, stores replaced under the server, the data root itself, and every request key far
 * past its bound. Each answers with its status and a message naming the key or file (never a
 * server directory), and the server keeps serving.
 */
class HostileInputTest {
  @TempDir Path tmp;
  Path root;
  Path outside;
  LocalFlight local;
  FlightClient client;

  @BeforeEach
  void start() throws IOException {
    root = Files.createDirectories(tmp.resolve("root"));
    outside = Files.createDirectories(tmp.resolve("secret"));
    Fixtures.copyTree(Fixtures.dir().resolve("dense.h5ad"), root.resolve("dense.h5ad"));
    Fixtures.copyTree(Fixtures.dir().resolve("dense.zarr"), root.resolve("dense.zarr"));
    Fixtures.copyTree(Fixtures.dir().resolve("f_same_var.h5ad"), root.resolve("other.h5ad"));
    RequestResolver resolver =
        new RequestResolver(new CollectionRegistry(List.of()), DataRoot.of(root));
    local = LocalFlight.start(resolver, 1000);
    client = local.client();
  }

  @AfterEach
  void stop() throws Exception {
    local.close();
  }

  // ---------------------------------------------------------------- files

  @Test
  void aChunkLinkedToAFileOutsideTheStoreIsNeverRead() throws IOException {
    // The link's target holds a valid chunk (another store's), so only the check stops it.
    Path chunk = root.resolve("dense.zarr/X/0.0");
    Path target = outside.resolve("stolen-chunk");
    Files.move(chunk, target);
    Files.createSymbolicLink(chunk, target);
    assertFails(() -> readAll("{\"paths\": \"dense.zarr\"}"), FlightStatusCode.UNAUTHORIZED,
        "dense.zarr at 'X': chunk 0.0 is a symbolic link leading outside the store");
    assertServesStill();
  }

  @Test
  void aLinkInsideTheStoreIsFollowed() throws IOException {
    // A link that stays inside the store is no escape: deduplicated chunks are fine.
    Path chunk = root.resolve("dense.zarr/X/0.0");
    Path moved = root.resolve("dense.zarr/X/moved-0.0");
    Files.move(chunk, moved);
    Files.createSymbolicLink(chunk, Path.of("moved-0.0"));
    assertThat(readAll("{\"paths\": \"dense.zarr\"}")).isEqualTo(60);
  }

  @Test
  void fifosAreNeverOpened() throws Exception {
    Path chunk = root.resolve("dense.zarr/X/0.0");
    Files.delete(chunk);
    mkfifo(chunk);
    mkfifo(root.resolve("fifo.h5ad"));
    assertFails(() -> readAll("{\"paths\": \"dense.zarr\"}"), FlightStatusCode.UNAUTHORIZED,
        "dense.zarr at 'X': chunk 0.0 is not a regular file (a FIFO, device or socket)");
    assertFails(() -> readAll("{\"paths\": \"fifo.h5ad\"}"), FlightStatusCode.UNAUTHORIZED,
        "fifo.h5ad: is not a regular file or directory");
    assertServesStill();
  }

  @Test
  void aStoreReplacedByRenameIsReopenedForNewRequests() throws IOException {
    assertThat(info("{\"paths\": \"dense.h5ad\"}").getRecords()).isEqualTo(60);
    Path next = root.resolve("next.h5ad.tmp");
    Fixtures.copyTree(Fixtures.dir().resolve("f_same_var.h5ad"), next);
    Files.move(next, root.resolve("dense.h5ad"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    assertThat(info("{\"paths\": \"dense.h5ad\"}").getRecords()).isEqualTo(25);
    assertThat(readAll("{\"paths\": \"dense.h5ad\"}")).isEqualTo(25);
  }

  @Test
  void aStoreTruncatedInPlaceFailsCleanly() throws IOException {
    assertThat(readAll("{\"paths\": \"dense.h5ad\"}")).isEqualTo(60);
    Path file = root.resolve("dense.h5ad");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 3));
    assertFails(() -> readAll("{\"paths\": \"dense.h5ad\"}"), FlightStatusCode.INTERNAL,
        "dense.h5ad");
    assertServesStill();
  }

  @Test
  void theDataRootItselfIsNoStore() {
    for (String p : new String[] {".", "./", "dense.zarr/.."}) {
      String request = "{\"paths\": \"" + p + "\"}";
      assertThatThrownBy(() -> info(request)).isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> {
            FlightRuntimeException f = (FlightRuntimeException) e;
            assertThat(f.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT);
            assertThat(f.getMessage()).doesNotContain(root.toString())
                .doesNotContain(tmp.toString());
          });
    }
  }

  // ---------------------------------------------------------------- request bounds

  @Test
  void batchAndEndpointSizesPastTheirBoundsAreRefusedNamingTheKey() {
    for (String v : new String[] {"200000000", "1000000000", "2147483648", "1e400"}) {
      assertFails(() -> info("{\"paths\": \"dense.h5ad\", \"rows_per_batch\": " + v + "}"),
          FlightStatusCode.INVALID_ARGUMENT, "rows_per_batch");
    }
    assertFails(() -> info("{\"paths\": \"dense.h5ad\", \"rows_per_batch\": 2000000}"),
        FlightStatusCode.INVALID_ARGUMENT, "at most " + RequestLimits.MAX_ROWS_PER_BATCH);
    assertFails(() -> info("{\"paths\": \"dense.h5ad\", \"rows_per_endpoint\": "
            + "9223372036854775808}"),
        FlightStatusCode.INVALID_ARGUMENT, "rows_per_endpoint");
    // Within the bound, a batch larger than the ticket holds only the ticket's rows.
    assertThat(readAll("{\"paths\": \"dense.h5ad\", \"rows_per_batch\": 1000000}"))
        .isEqualTo(60);
    assertServesStill();
  }

  @Test
  void aBatchLargerThanTheServerCanHoldIsRefusedNotWaitedFor() throws Exception {
    // 4 MiB of Arrow memory: a batch may take 1 MiB; 60 dense rows of 24 floats fit, ~10,000
    // rows of the same collection twice over (by indices) do not.
    try (BufferAllocator small = new RootAllocator(4 << 20);
        AnnflightServer tight = AnnflightServer.start(new RequestResolver(
            new CollectionRegistry(List.of()), DataRoot.of(root)), AnnDataStores::open,
            AnnflightServer.Options.local(0), small);
        FlightClient c = FlightClient.builder(small, tight.location()).build()) {
      ObjectNode t = RequestJson.MAPPER.createObjectNode();
      t.putObject("request").put("paths", "dense.h5ad").put("rows_per_batch", 1 << 20);
      ArrayNode idx = t.putArray("indices");
      for (int i = 0; i < 20_000; i++) {
        idx.add(i % 60);
      }
      assertThatThrownBy(() -> {
        try (FlightStream s = c.getStream(new Ticket(t.toString().getBytes(
            StandardCharsets.UTF_8)))) {
          while (s.next()) {
            // drain
          }
        }
      }).isInstanceOf(FlightRuntimeException.class)
          .hasMessageContaining("rows_per_batch")
          .hasMessageContaining("MiB per batch");
    }
  }

  @Test
  void oversizedBodiesAndListsAreRefusedBeforeTheyAreParsed() {
    byte[] big = ("{\"paths\": \"" + "x".repeat(RequestLimits.MAX_REQUEST_BYTES) + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    assertFails(() -> client.getInfo(FlightDescriptor.command(big)),
        FlightStatusCode.INVALID_ARGUMENT, "descriptor command is " + big.length
            + " bytes; at most " + RequestLimits.MAX_REQUEST_BYTES);
    StringBuilder many = new StringBuilder("{\"paths\": \"dense.h5ad\", \"obs_keys\": [");
    for (int i = 0; i <= RequestLimits.MAX_LIST_LENGTH; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append('"');
    }
    String manyKeys = many.append("]}").toString();
    assertFails(() -> info(manyKeys), FlightStatusCode.INVALID_ARGUMENT,
        "\"obs_keys\" has " + (RequestLimits.MAX_LIST_LENGTH + 1) + " entries; at most");
    StringBuilder indices = new StringBuilder("{\"request\": {\"paths\": \"dense.h5ad\"}, "
        + "\"indices\": [");
    for (int i = 0; i <= RequestLimits.MAX_INDICES; i++) {
      indices.append(i == 0 ? "0" : ",0");
    }
    String ticket = indices.append("]}").toString();
    assertFails(() -> readTicket(ticket), FlightStatusCode.INVALID_ARGUMENT,
        "more than " + RequestLimits.MAX_INDICES + " indices");
    assertServesStill();
  }

  @Test
  void aHugeFilterIsRefusedAndALargeOneCostsAHashLookupPerRow() throws IOException {
    StringBuilder huge = new StringBuilder("{\"paths\": \"dense.h5ad\", \"obs_keys\": "
        + "[\"cell_type\"], \"obs_filter\": {\"cell_type\": [");
    for (int i = 0; i <= RequestLimits.MAX_FILTER_VALUES; i++) {
      huge.append(i == 0 ? "" : ",").append(i);
    }
    String tooMany = huge.append("]}}").toString();
    assertFails(() -> info(tooMany), FlightStatusCode.INVALID_ARGUMENT,
        "\"obs_filter\" has " + (RequestLimits.MAX_FILTER_VALUES + 1) + " values; at most");
    // The bound itself, with the fixture's real labels among made-up ones: the same rows as
    // the filter with the real labels alone.
    StringBuilder large = new StringBuilder("{\"paths\": \"dense.h5ad\", \"obs_filter\": "
        + "{\"cell_type\": [\"B cell\", \"T cell\"");
    for (int i = 2; i < RequestLimits.MAX_FILTER_VALUES; i++) {
      large.append(",\"label-").append(i).append('"');
    }
    String atBound = large.append("]}}").toString();
    long want = 0;
    for (var v : Fixtures.expected("dense.h5ad").at("/obs/columns/cell_type/values")) {
      want += v.asText().equals("B cell") || v.asText().equals("T cell") ? 1 : 0;
    }
    assertThat(want).isPositive().isLessThan(60);
    assertThat(info(atBound).getRecords()).isEqualTo(want);
  }

  // ---------------------------------------------------------------- helpers

  /** A store the test left alone is still served. */
  private void assertServesStill() {
    assertThat(readAll("{\"paths\": \"other.h5ad\"}")).isEqualTo(25);
  }

  private FlightInfo info(String request) {
    return client.getInfo(FlightDescriptor.command(request.getBytes(StandardCharsets.UTF_8)));
  }

  /** Reads every endpoint of the request; the number of rows. */
  private long readAll(String request) {
    long rows = 0;
    for (var e : info(request).getEndpoints()) {
      try (FlightStream s = client.getStream(e.getTicket())) {
        while (s.next()) {
          rows += s.getRoot().getRowCount();
        }
      } catch (Exception ex) {
        if (ex instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(ex);
      }
    }
    return rows;
  }

  private long readTicket(String ticket) throws Exception {
    long rows = 0;
    try (FlightStream s = client.getStream(new Ticket(ticket.getBytes(StandardCharsets.UTF_8)))) {
      while (s.next()) {
        rows += s.getRoot().getRowCount();
      }
    }
    return rows;
  }

  private void assertFails(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
      FlightStatusCode code, String inMessage) {
    assertThatThrownBy(call).isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> {
          FlightRuntimeException f = (FlightRuntimeException) e;
          String brief = f.getMessage().length() > 300 ? f.getMessage().substring(0, 300)
              : f.getMessage();
          assertThat(f.status().code()).as(brief).isEqualTo(code);
          assertThat(f.getMessage()).as(brief).contains(inMessage)
              .doesNotContain(root.toString()).doesNotContain(outside.toString());
        });
  }

  private static void mkfifo(Path p) throws Exception {
    Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertThat(mk.waitFor()).as("mkfifo %s", p).isZero();
  }
}
