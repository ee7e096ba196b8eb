package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.cli.ServerConfig;
import io.annflight.runtime.StreamLimits;
import io.annflight.schema.RequestJson;
import io.annflight.store.AnnDataStores;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas over the same files and configuration: any of them spreads the endpoints over
 * all three, the same way, each endpoint listing the others as alternates; the spread read
 * equals one server's read; a replica configured differently refuses the others' tickets.
 */
class ReplicasTest {
  private static final int ROWS_PER_ENDPOINT = 10; // dense.h5ad's 60 rows: 6 endpoints

  @TempDir
  Path tmp;
  private RootAllocator allocator;
  private final List<AnnflightServer> servers = new ArrayList<>();
  private final List<Location> replicas = new ArrayList<>();
  private final Map<Location, FlightClient> clients = new HashMap<>();

  @BeforeEach
  void start() throws Exception {
    allocator = new RootAllocator();
    RequestResolver resolver = TestCollections.overDense(tmp, "test");
    // Replicas know each other's ports before they start, so the ports are picked first. On a
    // shared machine another process may take one meanwhile: then all start again on others.
    for (int attempt = 1; servers.isEmpty(); attempt++) {
      int[] ports = freePorts(3);
      for (int port : ports) {
        replicas.add(Location.forGrpcInsecure("127.0.0.1", port));
      }
      try {
        for (int port : ports) {
          servers.add(start(resolver, port));
        }
      } catch (java.io.IOException bindFailed) {
        for (AnnflightServer s : servers) {
          s.close();
        }
        servers.clear();
        replicas.clear();
        if (attempt == 3) {
          throw bindFailed;
        }
      }
    }
  }

  private AnnflightServer start(RequestResolver resolver, int port) throws Exception {
    return AnnflightServer.start(resolver, AnnDataStores::open, new AnnflightServer.Options(
        "127.0.0.1", port, null, ROWS_PER_ENDPOINT, Security.NONE, null, StreamLimits.NONE, 0,
        replicas), allocator);
  }

  @AfterEach
  void stop() throws Exception {
    for (FlightClient c : clients.values()) {
      c.close();
    }
    for (AnnflightServer s : servers) {
      s.close();
    }
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  @Test
  void everyReplicaSpreadsTheEndpointsOverAllThreeTheSameWayWithAlternates() throws Exception {
    List<List<Location>> fromFirst = locations(info(replicas.get(0)));
    for (Location r : replicas) {
      assertThat(locations(info(r))).isEqualTo(fromFirst);
    }
    assertThat(fromFirst).hasSize(6);
    Map<Location, Integer> primaries = new HashMap<>();
    for (List<Location> where : fromFirst) {
      assertThat(new LinkedHashSet<>(where)).hasSize(3); // all three, each once
      int own = replicas.indexOf(where.get(0));
      for (int k = 0; k < 3; k++) {
        assertThat(where.get(k)).isEqualTo(replicas.get((own + k) % 3)); // ring order
      }
      primaries.merge(where.get(0), 1, Integer::sum);
    }
    assertThat(primaries).containsOnlyKeys(replicas).allSatisfy((l, n) -> assertThat(n)
        .isEqualTo(2));
    // Contiguous runs: the primaries never go back to an earlier replica.
    List<Integer> order = fromFirst.stream().map(w -> replicas.indexOf(w.get(0))).toList();
    assertThat(order).isSorted();
  }

  @Test
  void aReadSpreadOverTheReplicasEqualsOneServersRead() throws Exception {
    FlightInfo info = info(replicas.get(1));
    List<String> spread = new ArrayList<>();
    List<String> single = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      spread.addAll(rows(e.getLocations().get(0), e.getTicket()));
      single.addAll(rows(replicas.get(0), e.getTicket()));
    }
    assertThat(spread).hasSize(60).isEqualTo(single);
    // And every alternate serves the same rows as the first location.
    FlightEndpoint last = info.getEndpoints().get(5);
    for (Location alternate : last.getLocations()) {
      assertThat(rows(alternate, last.getTicket())).isEqualTo(rows(replicas.get(0),
          last.getTicket()));
    }
  }

  @Test
  void aReplicaConfiguredDifferentlyRefusesAnothersTicket() throws Exception {
    Ticket ticket = info(replicas.get(0)).getEndpoints().get(0).getTicket();
    ObjectNode options = RequestJson.MAPPER.createObjectNode();
    options.putArray("paths").add("dense.h5ad");
    options.putArray("obs_keys").add("cell_type"); // same name, other options
    Path root = tmp.resolve("root");
    RequestResolver other = new RequestResolver(new CollectionRegistry(List.of(
        ServerConfig.collection(Path.of("other"), "test", options, root))), DataRoot.of(root));
    try (AnnflightServer differing = AnnflightServer.start(other, AnnDataStores::open,
        AnnflightServer.Options.local(0), allocator);
        FlightClient c = FlightClient.builder(allocator, differing.location()).build()) {
      assertThatThrownBy(() -> {
        try (FlightStream s = c.getStream(ticket)) {
          s.next();
        }
      }).isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
              .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("collection \"test\"")
          .hasMessageContaining("configured differently");
    }
  }

  private FlightInfo info(Location where) {
    return client(where).getInfo(FlightDescriptor.path("test"));
  }

  private static List<List<Location>> locations(FlightInfo info) {
    return info.getEndpoints().stream().map(FlightEndpoint::getLocations).toList();
  }

  private FlightClient client(Location where) {
    return clients.computeIfAbsent(where, l -> FlightClient.builder(allocator, l).build());
  }

  /** Every row of a stream as text, its columns in order. */
  private List<String> rows(Location where, Ticket ticket) throws Exception {
    List<String> out = new ArrayList<>();
    try (FlightStream s = client(where).getStream(ticket)) {
      while (s.next()) {
        for (int i = 0; i < s.getRoot().getRowCount(); i++) {
          StringBuilder row = new StringBuilder();
          for (FieldVector v : s.getRoot().getFieldVectors()) {
            row.append(v.getObject(i)).append('|');
          }
          out.add(row.toString());
        }
      }
    }
    return out;
  }

  private static int[] freePorts(int n) throws Exception {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }
}
