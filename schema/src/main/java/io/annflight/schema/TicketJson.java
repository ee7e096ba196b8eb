package io.annflight.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Function;

/**
 * Ticket bytes: UTF-8 JSON {@code {"request": {...}, "start": s, "stop": e}} or
 * {@code {"request": {...}, "indices": [...]}}. Tickets carry the whole normalised request so any
 * server over the same files can serve them.
 */
public final class TicketJson {
  /** Most indices one ticket may list (32 MiB of longs); split larger lists over tickets. */
  public static final int MAX_INDICES = 4_000_000;

  private TicketJson() {}

  public static byte[] write(Ticket t) {
    ObjectNode o = RequestJson.MAPPER.createObjectNode();
    o.set("request", RequestJson.toJson(t.request()));
    if (t.rows() instanceof RowSelection.Range r) {
      o.put("start", r.start());
      o.put("stop", r.stop());
    } else {
      ArrayNode a = o.putArray("indices");
      for (long i : ((RowSelection.Indices) t.rows()).indices()) {
        a.add(i);
      }
    }
    try {
      return RequestJson.MAPPER.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise ticket", e);
    }
  }

  public static Ticket read(byte[] bytes, Function<String, CollectionRequest> collections) {
    ObjectNode o = RequestJson.readObject(bytes, "ticket");
    for (var it = o.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!Set.of("request", "start", "stop", "indices").contains(k)) {
        throw new RequestException(
            "unknown ticket key \"" + k + "\"; a ticket has request and start/stop or indices");
      }
    }
    JsonNode req = o.get("request");
    if (req == null) {
      throw new RequestException("ticket has no \"request\"");
    }
    CollectionRequest request = RequestJson.parse(req, collections, Set.of());
    boolean range = o.has("start") || o.has("stop");
    if (range == o.has("indices")) {
      throw new RequestException("ticket needs either \"start\"/\"stop\" or \"indices\"");
    }
    if (range) {
      return new Ticket(request, new RowSelection.Range(
          integer(o.get("start"), "start"), integer(o.get("stop"), "stop")));
    }
    JsonNode idx = o.get("indices");
    if (!idx.isArray()) {
      throw new RequestException("ticket \"indices\" must be a list of integers");
    }
    if (idx.size() > MAX_INDICES) {
      throw new RequestException("ticket lists " + idx.size() + " indices; at most "
          + MAX_INDICES + " are allowed per ticket, split the list over several tickets");
    }
    long[] indices = new long[idx.size()];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = integer(idx.get(i), "indices[" + i + "]");
    }
    return new Ticket(request, new RowSelection.Indices(indices));
  }

  public static String toText(Ticket t) {
    return new String(write(t), StandardCharsets.UTF_8);
  }

  private static long integer(JsonNode n, String key) {
    if (n == null || !n.canConvertToLong() || !n.isIntegralNumber()) {
      throw new RequestException("ticket \"" + key + "\" must be an integer, got " + n);
    }
    return n.asLong();
  }
}
