package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Epochs end to end, on two servers over the same files (two replicas): endpoints cover the
 * epoch's positions, every position's row holds that row's values, a second server serves the
 * same tickets with the same rows, an epoch resumes at any position, and equal parts are equal.
 */
class EpochStreamsTest {
  private static final int N = 85;
  private static final String PATHS = "\"paths\": [\"dense.h5ad\", \"f_same_var.zarr\"]";

  @TempDir Path tmp;
  BufferAllocator allocator;
  AnnflightServer a;
  AnnflightServer b;
  FlightClient clientA;
  FlightClient clientB;

  @BeforeEach
  void start() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Fixtures.copyTree(Fixtures.dir().resolve("dense.h5ad"), root.resolve("dense.h5ad"));
    Fixtures.copyTree(Fixtures.dir().resolve("f_same_var.zarr"), root.resolve("f_same_var.zarr"));
    allocator = new RootAllocator();
    a = server(root);
    b = server(root);
    clientA = FlightClient.builder(allocator, a.location()).build();
    clientB = FlightClient.builder(allocator, b.location()).build();
  }

  private AnnflightServer server(Path root) throws IOException {
    return AnnflightServer.start(new RequestResolver(new CollectionRegistry(List.of()),
        DataRoot.of(root)), AnnDataStores::open, AnnflightServer.Options.local(0), allocator);
  }

  @AfterEach
  void stop() throws Exception {
    clientA.close();
    clientB.close();
    a.close();
    b.close();
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  @Test
  void aBlockShuffledEpochIsThePermutationOfRowsAndTheSameOnAnotherServer() throws Exception {
    Map<Long, List<Float>> byRow = new HashMap<>();
    List<Row> sequential = readAll(clientA, "{" + PATHS + ", \"return_index\": true}");
    for (Row r : sequential) {
      byRow.put(r.row, r.x);
    }
    assertThat(byRow).hasSize(N);

    String request = "{" + PATHS + ", \"return_index\": true, \"rows_per_endpoint\": 20, "
        + "\"rows_per_batch\": 7, \"sampler\": {\"kind\": \"block_shuffle\", \"seed\": 2, "
        + "\"epoch\": 1, \"block_size\": 5, \"pool_blocks\": 4}}";
    FlightInfo info = info(clientA, request);
    assertThat(info.getRecords()).isEqualTo(N);
    assertThat(info.getEndpoints()).hasSize(5);
    List<Row> epoch = new ArrayList<>();
    List<Row> fromB = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      epoch.addAll(read(clientA, e.getTicket()));
      fromB.addAll(read(clientB, e.getTicket()));
    }
    assertThat(epoch.stream().map(r -> r.row).sorted().toList())
        .isEqualTo(sequential.stream().map(r -> r.row).toList());
    assertThat(epoch.stream().map(r -> r.row).toList())
        .isNotEqualTo(sequential.stream().map(r -> r.row).toList());
    for (Row r : epoch) {
      assertThat(r.x).as("row %d", r.row).isEqualTo(byRow.get(r.row));
    }
    assertThat(fromB.stream().map(r -> r.row).toList())
        .isEqualTo(epoch.stream().map(r -> r.row).toList());

    // Resume at position 37: the rest of the same epoch, from a hand-made ticket.
    String resume = "{\"request\": " + request + ", \"start\": 37, \"stop\": " + N + "}";
    assertThat(read(clientB, ticket(resume)).stream().map(r -> r.row).toList())
        .isEqualTo(epoch.subList(37, N).stream().map(r -> r.row).toList());
    String past = "{\"request\": " + request + ", \"start\": 80, \"stop\": 90}";
    assertThatThrownBy(() -> read(clientA, ticket(past)))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
            .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("the epoch has 85 positions");
  }

  @Test
  void equalPartsAreEqualEndpoints() throws Exception {
    for (String remainder : List.of("drop", "pad")) {
      FlightInfo info = info(clientA, "{" + PATHS + ", \"return_index\": true, \"sampler\": "
          + "{\"kind\": \"shuffle\"}, \"equal_parts\": {\"count\": 4, \"remainder\": \""
          + remainder + "\"}}");
      int per = remainder.equals("drop") ? 21 : 22;
      assertThat(info.getRecords()).isEqualTo(4L * per);
      assertThat(info.getEndpoints()).hasSize(4);
      for (FlightEndpoint e : info.getEndpoints()) {
        assertThat(read(clientA, e.getTicket())).hasSize(per);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private record Row(long row, List<Float> x) {}

  private static FlightInfo info(FlightClient c, String request) {
    return c.getInfo(FlightDescriptor.command(request.getBytes(StandardCharsets.UTF_8)));
  }

  private static Ticket ticket(String json) {
    return new Ticket(json.getBytes(StandardCharsets.UTF_8));
  }

  private static List<Row> readAll(FlightClient c, String request) throws Exception {
    List<Row> out = new ArrayList<>();
    for (FlightEndpoint e : info(c, request).getEndpoints()) {
      out.addAll(read(c, e.getTicket()));
    }
    return out;
  }

  private static List<Row> read(FlightClient c, Ticket t) throws Exception {
    List<Row> out = new ArrayList<>();
    try (FlightStream s = c.getStream(t)) {
      while (s.next()) {
        BigIntVector rows = (BigIntVector) s.getRoot().getVector("_row");
        FixedSizeListVector x = (FixedSizeListVector) s.getRoot().getVector("X");
        for (int i = 0; i < s.getRoot().getRowCount(); i++) {
          List<Float> values = new ArrayList<>();
          for (Object v : x.getObject(i)) {
            values.add(((Number) v).floatValue());
          }
          out.add(new Row(rows.get(i), values));
        }
      }
    }
    return out;
  }
}
