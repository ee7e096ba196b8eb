package io.annflight.flight;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.cli.ServerConfig;
import io.annflight.collection.CollectionEngine;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreCatalog;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.schema.Ticket;
import io.annflight.schema.TicketJson;
import io.annflight.store.AnnDataStores;
import io.annflight.store.StoreException;
import io.annflight.testing.Fixtures;
import io.annflight.testing.FuzzScratch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes what clients send as JSON: descriptor commands, action bodies (with their
 * {@code args}) and tickets, parsed and planned against two small fixture stores, and the
 * actions run on the plan. An input's byte 0 picks what the rest is: a descriptor command, the
 * body of one of the actions, or a ticket. The documented answers are a
 * {@link RequestException} (INVALID_ARGUMENT), an unknown collection and a
 * {@link StoreException}; anything else escaping is a finding. See docs/development/fuzzing.md.
 */
class RequestFuzzTest {
  private static final Path ROOT = FuzzScratch.create("annflight-request-fuzz");
  private static final RequestResolver RESOLVER = resolver();
  private static final CollectionEngine ENGINE =
      new CollectionEngine(new StoreCatalog(AnnDataStores::open));
  private static final BufferAllocator ALLOCATOR = new RootAllocator(64L << 20);
  private static final CollectionActions ACTIONS = new CollectionActions(RESOLVER, ALLOCATOR);
  private static final ActionKind[] ACTION_KINDS = ActionKind.values();

  private static RequestResolver resolver() {
    try {
      Fixtures.copyTree(Fixtures.dir().resolve("dense.h5ad"), ROOT.resolve("dense.h5ad"));
      Fixtures.copyTree(Fixtures.dir().resolve("csr.zarr"), ROOT.resolve("csr.zarr"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    ObjectNode options = RequestJson.MAPPER.createObjectNode();
    options.putArray("paths").add("dense.h5ad").add("csr.zarr");
    options.put("join", "outer");
    return new RequestResolver(new CollectionRegistry(List.of(
        ServerConfig.collection(Path.of("fuzz"), "demo", options, ROOT))), DataRoot.of(ROOT));
  }

  @AfterAll
  static void allocatorHasNoLeak() {
    if (ALLOCATOR.getAllocatedMemory() != 0) {
      throw new AssertionError("actions leaked " + ALLOCATOR.getAllocatedMemory() + " bytes");
    }
  }

  // The request's vocabulary, so mutations reach the checks past the JSON parser.
  @DictionaryEntries({"\"collection\"", "\"paths\"", "\"layers_keys\"", "\"obs_keys\"",
      "\"obsm_keys\"", "\"obs_filter\"", "\"join\"", "\"encode_labels\"",
      "\"unknown_label\"", "\"dtype\"", "\"rows_per_endpoint\"", "\"rows_per_batch\"",
      "\"compression\"", "\"sampler\"", "\"split\"", "\"equal_parts\"", "\"return_index\"",
      "\"cache_categories\"", "\"parallel\"", "\"matrix_format\"", "\"var_names\"",
      "\"var_key\"", "\"args\"", "\"request\"", "\"start\"", "\"stop\"", "\"indices\"",
      "\"configuration\"", "\"label_key\"", "\"scaler\"", "\"return_categories\"",
      "\"ascending\"", "\"vars\"", "\"demo\"", "\"dense.h5ad\"", "\"csr.zarr\"",
      "\"cell_type\"", "\"tissue\"", "\"n_genes\"", "\"X_pca\"", "\"counts\"", "\"raw.X\"",
      "\"outer\"", "\"inner\"", "\"csr\"", "\"float64\"", "\"int32\"", "\"zstd\"",
      "\"lz4\"", "\"seed\"", "\"kind\"", "\"random\"", "\"fractions\"", "\"G000\"",
      "null", "true", "false", "-1", "9223372036854775807", "1e308"})
  @FuzzTest(maxExecutions = 20_000, maxDuration = "30m")
  void requestsActionsAndTickets(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int what = input[0] & 0xFF;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    try {
      if (what == 0) {
        lease(RESOLVER.request(FlightDescriptor.command(body))).close();
      } else if (what <= ACTION_KINDS.length) {
        ACTIONS.run(ACTION_KINDS[what - 1].type(), body, this::lease, result -> { });
      } else {
        Ticket t = TicketJson.read(body, RESOLVER.registry()::request);
        RESOLVER.checkConfiguration(t);
        lease(t.request()).close();
      }
    } catch (RequestException | UnknownCollectionException | StoreException e) {
      if (e.getMessage() == null || e.getMessage().isBlank()) {
        throw new AssertionError("an answer without a message: " + e, e);
      }
    }
  }

  private CollectionPlan.Lease lease(CollectionRequest request) {
    return ENGINE.lease(request, RESOLVER.storePaths(request));
  }
}
