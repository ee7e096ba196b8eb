package io.annflight.flight;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.annflight.schema.RequestJson;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the server up through the path a client's stream takes, network included: a second
 * Flight server over the same producer on a loopback port that only this process can call (a
 * random bearer secret), and a gRPC client in this JVM that asks each collection (configured,
 * or the stores of {@link WarmupCollections}) for short streams (dense and CSR rows, in order
 * and block-shuffled, plain and LZ4, in small batches) and drops what arrives. The JIT then
 * compiles the fill, codec, IPC, gRPC and netty code before the first client instead of during
 * its first epoch (first_epoch_bench.py measures both); the last part of the budget streams
 * nothing, so that it finishes what the streams queued ({@link JitSettling}). The streams are
 * not counted in the metrics; the server's own port stays NOT_SERVING meanwhile.
 */
final class LoopbackWarmup {
  private static final Logger LOG = LoggerFactory.getLogger(LoopbackWarmup.class);
  private static final String AUTHORIZATION = "authorization";
  /** The most of the budget left to the JIT at the end (a fifth of it at most). */
  static final Duration MAX_SETTLING = Duration.ofSeconds(1);
  /**
   * Rows of a warm-up batch: small, so that the code that runs once a batch (fill calls, Arrow
   * IPC, gRPC and netty writes) runs the thousands of times the JIT wants before it compiles it
   * fully; a client's epoch, at about 1,000 rows a batch, would otherwise pay for that during
   * its first epochs. Projected streams keep the server's own batch sizing, warming it too.
   */
  static final int ROWS_PER_BATCH = 128;
  /** How long the JIT must have compiled nothing to count as done. */
  static final Duration JIT_QUIET = Duration.ofMillis(150);

  private LoopbackWarmup() {}

  /**
   * Streams every configured collection of {@code producer} until {@code budget} has passed
   * (less a fifth of it, at most {@link #MAX_SETTLING}, in which the JIT finishes compiling),
   * {@code maxPasses} passes are done, or a whole pass could stream nothing; each stream holds
   * at most {@code rowsPerStream} rows.
   *
   * @return the streams read
   */
  static int run(AnnflightProducer producer, BufferAllocator allocator, Duration budget,
      long rowsPerStream, int maxPasses) throws IOException, InterruptedException {
    List<ObjectNode> collections = producer.collectionNames().stream()
        .map(name -> RequestJson.MAPPER.createObjectNode().put("collection", name)).toList();
    return run(producer, allocator, budget, rowsPerStream, maxPasses, pass -> collections, null);
  }

  /**
   * {@link #run}, over {@code basesOfPass} (given the pass, from 0): requests that name what to
   * read (a collection, or paths and keys), each streamed in every variant; with
   * {@code varNames} (null: none), also projected onto them.
   */
  static int run(AnnflightProducer producer, BufferAllocator allocator, Duration budget,
      long rowsPerStream, int maxPasses, IntFunction<List<ObjectNode>> basesOfPass,
      List<String> varNames)
      throws IOException, InterruptedException {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String bearer = "Bearer " + HexFormat.of().formatHex(secret);
    long end = System.nanoTime() + budget.toNanos();
    // The last part of the budget is left to the JIT to finish compiling what the streams
    // asked for (JitSettling), so that it does not compile during the first client's epoch.
    long deadline = end - Math.min(budget.toNanos() / 5, MAX_SETTLING.toNanos());
    try (FlightServer server = FlightServer.builder(allocator,
            Location.forGrpcInsecure("127.0.0.1", 0), producer)
        .headerAuthenticator(onlyThisProcess(bearer, producer.warmupIdentity()))
        .build().start()) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of(AUTHORIZATION, Metadata.ASCII_STRING_MARSHALLER), bearer);
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .usePlaintext().maxInboundMessageSize(Integer.MAX_VALUE)
          .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
      try {
        FlightServiceGrpc.FlightServiceBlockingStub stub = FlightServiceGrpc
            .newBlockingStub(channel);
        int streams = 0;
        boolean streamed = true;
        for (int pass = 0; pass < maxPasses && streamed && System.nanoTime() < deadline;
            pass++) {
          streamed = false; // a pass where nothing could stream ends the warm-up
          for (String request : requests(basesOfPass.apply(pass), rowsPerStream, varNames)) {
            if (System.nanoTime() >= deadline || Thread.currentThread().isInterrupted()) {
              break;
            }
            if (stream(stub, request, deadline)) {
              streamed = true;
              streams++;
            }
          }
        }
        if (!JitSettling.await(end, JIT_QUIET)) {
          // Then the first client's epoch shares the cores with what is left to compile.
          LOG.info("warm-up: {} streams; the JIT compiler was still busy at the end of the"
              + " budget", streams);
        }
        return streams;
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } // closing the server waits for its calls to end
  }

  /**
   * The warm-up's requests: every base, dense and CSR, in order and block-shuffled, plain and
   * LZ4, in batches of {@link #ROWS_PER_BATCH} rows; with {@code varNames}, also projected onto
   * them (dense and CSR, batches sized by the server).
   */
  static List<String> requests(List<ObjectNode> bases, long rowsPerStream,
      List<String> varNames) {
    // Every path once before any twice: a loaded machine may leave time for a few streams.
    List<String> out = new ArrayList<>();
    for (boolean shuffled : new boolean[] {false, true}) {
      for (String compression : new String[] {"lz4", "none"}) {
        for (String format : new String[] {"csr", "dense"}) {
          for (ObjectNode base : bases) {
            ObjectNode r = request(base, format, rowsPerStream).put("compression", compression)
                .put("rows_per_batch", ROWS_PER_BATCH);
            if (shuffled) {
              r.putObject("sampler").put("kind", "block_shuffle");
            }
            out.add(r.toString());
          }
        }
      }
    }
    if (varNames != null) {
      for (String format : new String[] {"csr", "dense"}) {
        for (ObjectNode base : bases) {
          ObjectNode r = request(base, format, rowsPerStream);
          varNames.forEach(r.putArray("var_names")::add);
          out.add(r.toString());
        }
      }
    }
    return out;
  }

  private static ObjectNode request(ObjectNode base, String format, long rowsPerStream) {
    return base.deepCopy().put("matrix_format", format).put("rows_per_endpoint", rowsPerStream);
  }

  /** The first endpoint of {@code request}, read and dropped; false when it was refused. */
  private static boolean stream(FlightServiceGrpc.FlightServiceBlockingStub stub,
      String request, long deadline) {
    // Cancelled at the deadline: one stream of a wide collection may take long.
    Context.CancellableContext call = Context.current().withCancellation();
    Context previous = call.attach();
    try {
      Flight.FlightInfo info = stub.getFlightInfo(Flight.FlightDescriptor.newBuilder()
          .setType(Flight.FlightDescriptor.DescriptorType.CMD)
          .setCmd(ByteString.copyFrom(request, StandardCharsets.UTF_8)).build());
      if (info.getEndpointCount() == 0) {
        return false;
      }
      Iterator<Flight.FlightData> data = stub.doGet(info.getEndpoint(0).getTicket());
      while (data.hasNext() && System.nanoTime() < deadline) {
        data.next();
      }
      return true;
    } catch (StatusRuntimeException e) {
      // A collection this request does not fit (no X, say): its own GetFlightInfo says why.
      LOG.debug("warm-up skips {}: {}", request, e.getStatus());
      return false;
    } finally {
      call.detach(previous);
      call.cancel(null);
    }
  }

  /** Accepts exactly {@code bearer}, as {@code identity}; anything else is UNAUTHENTICATED. */
  static CallHeaderAuthenticator onlyThisProcess(String bearer, String identity) {
    byte[] expected = bearer.getBytes(StandardCharsets.US_ASCII);
    return (CallHeaders headers) -> {
      String given = headers.get(AUTHORIZATION);
      if (given == null
          || !MessageDigest.isEqual(given.getBytes(StandardCharsets.US_ASCII), expected)) {
        throw CallStatus.UNAUTHENTICATED.withDescription("warm-up port").toRuntimeException();
      }
      return () -> identity;
    };
  }
}
