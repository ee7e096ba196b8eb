package io.annflight.flight;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.arrow.PerRowResults;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.CollectionQueries;
import io.annflight.collection.MatrixColumnPlan;
import io.annflight.collection.StoreInfo;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.OutputColumn;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Runs one DoAction: parses the body ({@code collection}/{@code paths}, other request keys and
 * {@code args}), plans the request and calls the matching query. Small results are one JSON
 * result; per-row results one Arrow IPC stream, sent as consecutive results whose bodies,
 * concatenated, are the stream (one result while it is under {@link PerRowResults#PIECE_BYTES}).
 */
final class CollectionActions {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final RequestResolver resolver;
  private final BufferAllocator allocator;

  CollectionActions(RequestResolver resolver, BufferAllocator allocator) {
    this.resolver = resolver;
    this.allocator = allocator;
  }

  /**
   * @param planner leases the plan of the action's request (checking the caller's grants)
   * @param results receives the result bodies in order
   */
  void run(String type, byte[] body, Function<CollectionRequest, CollectionPlan.Lease> planner,
      Consumer<byte[]> results) {
    ActionKind kind = ActionKind.of(type);
    ObjectNode node = RequestJson.readObject(body, "action body");
    Args args = Args.of(kind, node.get("args"));
    CollectionRequest request = resolver.parse(node, Set.of("args"));
    try (CollectionPlan.Lease lease = lease(kind, node, request, planner)) {
      CollectionPlan plan = lease.plan();
      switch (kind) {
        case GET_MERGED_LABELS -> {
          String key = args.string("label_key");
          PerRowResults.write(key, plan.queries().mergedLabels(key), allocator, results);
        }
        case GET_LABEL_WEIGHTS -> {
          List<String> keys = args.strings("obs_keys", true);
          Double scaler = args.number("scaler");
          if (args.bool("return_categories", false)) {
            results.accept(json(RequestJson.MAPPER.valueToTree(
                plan.queries().getLabelWeightCategories(keys, scaler))));
          } else {
            PerRowResults.write("weight", plan.queries().labelWeights(keys, scaler), allocator,
                results);
          }
        }
        default -> results.accept(run(kind, args, plan));
      }
    }
  }

  /**
   * The plan of an action's request. {@code describe} with the default {@code layers_keys}
   * ({@code X}) over stores none of which has an X describes them without X: describing a
   * store is how a user finds out that it has none.
   */
  private CollectionPlan.Lease lease(ActionKind kind, ObjectNode node, CollectionRequest request,
      Function<CollectionRequest, CollectionPlan.Lease> planner) {
    try {
      return planner.apply(request);
    } catch (RequestException noX) {
      if (kind != ActionKind.DESCRIBE || node.has("layers_keys")
          || !request.layersKeys().equals(List.of("X"))) {
        throw noX;
      }
      ObjectNode withoutX = node.deepCopy();
      withoutX.putArray("layers_keys");
      CollectionPlan.Lease lease;
      try {
        lease = planner.apply(resolver.parse(withoutX, Set.of("args")));
      } catch (RuntimeException e) {
        noX.addSuppressed(e);
        throw noX;
      }
      if (lease.plan().stores().stream().anyMatch(StoreInfo::hasX)) {
        lease.close(); // X was refused for another reason: that is the answer
        throw noX;
      }
      return lease;
    }
  }

  /** The JSON answers. */
  private byte[] run(ActionKind kind, Args args, CollectionPlan plan) {
    CollectionQueries q = plan.queries();
    return switch (kind) {
      case SHAPE -> json(longs(q.shape()));
      case ORIGINAL_SHAPES -> {
        ArrayNode a = JSON.arrayNode();
        q.originalShapes().forEach(s -> a.add(longs(s)));
        yield json(a);
      }
      case VAR_JOINT -> json(RequestJson.MAPPER.valueToTree(q.varJoint()));
      case CHECK_VARS_SORTED -> json(JSON.booleanNode(
          q.checkVarsSorted(args.bool("ascending", true))));
      case CHECK_VARS_NON_ALIGNED -> json(RequestJson.MAPPER.valueToTree(
          q.checkVarsNonAligned(args.strings("vars", false))));
      case GET_MERGED_CATEGORIES -> json(RequestJson.MAPPER.valueToTree(
          q.getMergedCategories(args.string("label_key"))));
      case GET_MERGED_LABELS, GET_LABEL_WEIGHTS -> throw new IllegalStateException(
          kind + " streams its answer");
      case DESCRIBE -> json(describe(plan));
    };
  }

  private ObjectNode describe(CollectionPlan plan) {
    ObjectNode o = JSON.objectNode();
    o.set("request", RequestJson.toJson(plan.request()));
    long[] shape = plan.queries().shape();
    o.put("n_obs", plan.nObs());
    o.put("n_vars", shape[1]);
    if (plan.request().matrix().varNames() != null) {
      // Names of var_names that no store has: their columns are zeros.
      o.set("var_names_unmatched", RequestJson.MAPPER.valueToTree(plan.unmatchedVarNames()));
    }
    ArrayNode cols = o.putArray("columns");
    for (OutputColumn c : plan.outputSchema().columns()) {
      ObjectNode col = cols.addObject();
      col.put("name", c.name());
      col.put("type", WireSchema.describe(c));
    }
    List<String> shown = resolver.displayPaths(plan.request());
    ArrayNode stores = o.putArray("stores");
    List<StoreInfo> infos = plan.stores();
    for (int i = 0; i < infos.size(); i++) {
      StoreInfo s = infos.get(i);
      ObjectNode st = stores.addObject();
      st.put("path", i < shown.size() ? shown.get(i) : String.valueOf(s.path().getFileName()));
      st.put("format", s.format());
      st.put("n_obs", s.nObs());
      st.put("n_vars", s.nVars());
      st.put("offset", s.offset());
      st.set("layers", RequestJson.MAPPER.valueToTree(s.layers()));
      st.set("obsm", RequestJson.MAPPER.valueToTree(s.obsm()));
      st.set("obs_columns", RequestJson.MAPPER.valueToTree(s.obsColumns()));
      st.put("has_raw", s.hasRaw());
      st.put("has_x", s.hasX());
      ObjectNode kinds = st.putObject("obsm_kinds");
      for (int k = 0; k < s.obsm().size(); k++) {
        kinds.put(s.obsm().get(k), s.obsmKinds().get(k));
      }
      st.set("modalities", RequestJson.MAPPER.valueToTree(s.modalities()));
      // How each requested layers key is stored here (csr, csc, dense; null where absent):
      // what a client weighs when it picks the wire format.
      ObjectNode layouts = st.putObject("matrix_layouts");
      for (MatrixColumnPlan layer : plan.layers()) {
        layouts.put(layer.name(), layer.readers().get(i)
            .map(r -> r.layout().name().toLowerCase(java.util.Locale.ROOT)).orElse(null));
      }
    }
    return o;
  }

  private static ArrayNode longs(long[] values) {
    ArrayNode a = JSON.arrayNode();
    for (long v : values) {
      a.add(v);
    }
    return a;
  }

  private static byte[] json(JsonNode node) {
    try {
      return RequestJson.MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise action result", e);
    }
  }

  /** An action's {@code args}, checked against the method's parameter names. */
  private record Args(ActionKind kind, JsonNode node) {
    static Args of(ActionKind kind, JsonNode node) {
      if (node == null || node.isNull()) {
        return new Args(kind, JSON.objectNode());
      }
      if (!node.isObject()) {
        throw new RequestException("\"args\" of " + kind.type() + " must be an object, got "
            + node);
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!kind.args().contains(k)) {
          throw new RequestException("unknown argument \"" + k + "\" for " + kind.type()
              + "; it takes " + (kind.args().isEmpty() ? "no arguments" : kind.args()));
        }
      }
      return new Args(kind, node);
    }

    private String where(String key) {
      return kind.type() + " argument \"" + key + "\"";
    }

    JsonNode required(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        throw new RequestException(where(key) + " is required");
      }
      return v;
    }

    String string(String key) {
      JsonNode v = required(key);
      if (!v.isTextual()) {
        throw new RequestException(where(key) + " must be a string, got " + v);
      }
      return v.asText();
    }

    /** A list of strings; a single string counts as a list of one when {@code single}. */
    List<String> strings(String key, boolean single) {
      JsonNode v = required(key);
      if (single && v.isTextual()) {
        return List.of(v.asText());
      }
      if (!v.isArray()) {
        throw new RequestException(where(key) + " must be a list of strings, got " + v);
      }
      List<String> out = new ArrayList<>();
      for (JsonNode e : v) {
        if (!e.isTextual()) {
          throw new RequestException(where(key) + " must hold strings only, got " + e);
        }
        out.add(e.asText());
      }
      return out;
    }

    boolean bool(String key, boolean dflt) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw new RequestException(where(key) + " must be true or false, got " + v);
      }
      return v.asBoolean();
    }

    Double number(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isNumber()) {
        throw new RequestException(where(key) + " must be a number, got " + v);
      }
      return v.asDouble();
    }
  }
}
