package io.annflight.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.flight.AnnflightServer;
import io.annflight.flight.RequestResolver;
import io.annflight.store.AnnDataStores;
import java.io.IOException;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * A server over a resolver on 127.0.0.1 (a free port), a Java Flight client of it, and the
 * allocator both use; closing them checks that nothing stayed allocated.
 */
public record LocalFlight(BufferAllocator allocator, AnnflightServer server, FlightClient client)
    implements AutoCloseable {

  /** @param maxRowsPerEndpoint rows per endpoint the server plans at most */
  public static LocalFlight start(RequestResolver resolver, long maxRowsPerEndpoint)
      throws IOException {
    BufferAllocator allocator = new RootAllocator();
    AnnflightServer server = AnnflightServer.start(resolver, AnnDataStores::open,
        new AnnflightServer.Options("127.0.0.1", 0, null, maxRowsPerEndpoint), allocator);
    return new LocalFlight(allocator, server,
        FlightClient.builder(allocator, server.location()).build());
  }

  @Override
  public void close() throws Exception {
    client.close();
    server.close();
    assertThat(allocator.getAllocatedMemory()).as("bytes still allocated").isZero();
    allocator.close();
  }
}
