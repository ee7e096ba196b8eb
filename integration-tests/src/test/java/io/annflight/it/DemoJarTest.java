package io.annflight.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command: the executable jar with no arguments serves the bundled demo on
 * 127.0.0.1:8815 and says how to query it.
 */
class DemoJarTest {
  private static final int DEMO_PORT = 8815;

  @TempDir Path tmp;

  private static boolean portIsFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void jarWithoutArgumentsServesTheDemo() throws Exception {
    Path jar = Path.of("..", "flight-server", "target", "annflight-server.jar").toAbsolutePath();
    assertThat(jar).as("built by the flight-server module").isRegularFile();
    assumeTrue(portIsFree(DEMO_PORT), "port " + DEMO_PORT + " is taken on 127.0.0.1 (another"
        + " server runs here?): the demo's default port cannot be tested");
    Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Djava.io.tmpdir=" + tmp, "-jar", jar.toString())
        .redirectErrorStream(true).start();
    List<String> output = new ArrayList<>();
    try {
      CompletableFuture<Boolean> listening = CompletableFuture.supplyAsync(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            synchronized (output) {
              output.add(line);
            }
            if (line.contains("grpc+tcp://127.0.0.1:" + DEMO_PORT)) {
              return true;
            }
          }
          return false;
        } catch (java.io.IOException e) {
          return false;
        }
      });
      assertThat(listening.get(60, TimeUnit.SECONDS))
          .as("server output: %s", output).isTrue();
      try (RootAllocator allocator = new RootAllocator();
          FlightClient client = FlightClient.builder(allocator,
              Location.forGrpcInsecure("127.0.0.1", DEMO_PORT)).build()) {
        List<FlightInfo> flights = new ArrayList<>();
        client.listFlights(Criteria.ALL).forEach(flights::add);
        assertThat(flights).extracting(f -> f.getDescriptor().getPath().get(0))
            .containsExactly("demo");
        FlightInfo demo = flights.get(0);
        assertThat(demo.getRecords()).isEqualTo(500);
        long rows = 0;
        for (FlightEndpoint ep : demo.getEndpoints()) {
          try (FlightStream s = client.getStream(ep.getTicket())) {
            while (s.next()) {
              rows += s.getRoot().getRowCount();
            }
          }
        }
        assertThat(rows).isEqualTo(500);
      }
      assertThat(Files.list(tmp).map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith("annflight-demo-"));
    } finally {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }
}
