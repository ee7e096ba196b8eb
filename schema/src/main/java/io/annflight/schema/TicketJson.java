package io.annflight.schema;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Function;

/**
 * Ticket bytes: UTF-8 JSON {@code {"request": {...}, "start": s, "stop": e}} or
 * {@code {"request": {...}, "indices": [...]}}, and for a configured collection
 * {@code "configuration": "<fingerprint>"}. Tickets carry the whole normalised request so any
 * server over the same files can serve them.
 */
public final class TicketJson {

  private TicketJson() {}

  public static byte[] write(Ticket t) {
    ObjectNode o = RequestJson.MAPPER.createObjectNode();
    o.set("request", RequestJson.toJson(t.request()));
    if (t.configuration() != null) {
      o.put("configuration", t.configuration());
    }
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

  /**
   * Parses ticket bytes with a streaming parser, so that a ticket costs about what it holds: its
   * request (at most {@link RequestLimits#MAX_REQUEST_BYTES}) as a tree, its indices straight
   * into a {@code long[]}, refused as soon as they pass {@link RequestLimits#MAX_INDICES}.
   */
  public static Ticket read(byte[] bytes, Function<String, CollectionRequest> collections) {
    RequestLimits.checkBytes("ticket", bytes.length, RequestLimits.MAX_TICKET_BYTES);
    JsonNode req = null;
    Long start = null;
    Long stop = null;
    long[] indices = null;
    String configuration = null;
    try (JsonParser p = RequestJson.MAPPER.getFactory().createParser(bytes)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new RequestException("ticket must be a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String k = p.currentName();
        p.nextToken();
        switch (k) {
          case "request" -> req = requestTree(p, bytes);
          case "start" -> start = integer(p, "start");
          case "stop" -> stop = integer(p, "stop");
          case "indices" -> indices = indices(p);
          case "configuration" -> configuration = fingerprint(p);
          default -> throw new RequestException("unknown ticket key \"" + k
              + "\"; a ticket has request, start/stop or indices, and configuration");
        }
      }
      if (p.nextToken() != null) {
        throw new RequestException("ticket has content after its JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new RequestException("ticket is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new RequestException("ticket cannot be read: " + e.getMessage());
    }
    if (req == null) {
      throw new RequestException("ticket has no \"request\"");
    }
    boolean range = start != null || stop != null;
    if (range == (indices != null)) {
      throw new RequestException("ticket needs either \"start\"/\"stop\" or \"indices\"");
    }
    if (range && (start == null || stop == null)) {
      throw new RequestException("ticket \"" + (start == null ? "start" : "stop")
          + "\" must be an integer, got null");
    }
    CollectionRequest request = RequestJson.parse(req, collections, Set.of());
    if (configuration != null && request.collection() == null) {
      throw new RequestException("ticket \"configuration\" belongs to tickets of configured"
          + " collections; this one names store paths");
    }
    return new Ticket(request, range ? new RowSelection.Range(start, stop)
        : new RowSelection.Indices(indices), configuration);
  }

  /** The request object under the parser, measured before it is parsed into a tree. */
  private static JsonNode requestTree(JsonParser p, byte[] bytes) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw new RequestException("ticket \"request\" must be a JSON object");
    }
    long from = p.currentTokenLocation().getByteOffset();
    p.skipChildren();
    long to = p.currentLocation().getByteOffset();
    RequestLimits.checkBytes("ticket \"request\"", (int) (to - from),
        RequestLimits.MAX_REQUEST_BYTES);
    return RequestJson.MAPPER.readTree(bytes, (int) from, (int) (to - from));
  }

  private static long[] indices(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new RequestException("ticket \"indices\" must be a list of integers");
    }
    long[] out = new long[1024];
    int n = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (n == RequestLimits.MAX_INDICES) {
        throw new RequestException("ticket lists more than " + RequestLimits.MAX_INDICES
            + " indices; at most " + RequestLimits.MAX_INDICES
            + " are allowed per ticket, split the list over several tickets");
      }
      if (n == out.length) {
        out = Arrays.copyOf(out, (int) Math.min(RequestLimits.MAX_INDICES, 2L * n));
      }
      out[n] = integer(p, "indices[" + n + "]");
      n++;
    }
    return Arrays.copyOf(out, n);
  }

  private static String fingerprint(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING || p.getTextLength() > 128) {
      throw new RequestException("ticket \"configuration\" must be a fingerprint string");
    }
    return p.getText();
  }

  public static String toText(Ticket t) {
    return new String(write(t), StandardCharsets.UTF_8);
  }

  private static long integer(JsonParser p, String key) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      String got = p.currentToken() == null || p.currentToken().isStructStart()
          ? String.valueOf(p.currentToken()) : p.getText();
      throw new RequestException("ticket \"" + key + "\" must be an integer, got "
          + (got.length() > 100 ? got.substring(0, 100) + "..." : got));
    }
    return p.getLongValue();
  }
}
