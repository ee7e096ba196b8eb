package io.annflight.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The JSON form of a {@link CollectionRequest}: the keys are MappedCollection's argument names
 * plus {@code collection}, {@code paths}, {@code rows_per_endpoint}, {@code rows_per_batch},
 * {@code bytes_per_batch} and {@code compression}.
 * Unknown keys are an error.
 */
public final class RequestJson {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  static final String COLLECTION = "collection";
  static final String PATHS = "paths";
  static final String LAYERS_KEYS = "layers_keys";
  static final String OBS_KEYS = "obs_keys";
  static final String OBSM_KEYS = "obsm_keys";
  static final String OBS_FILTER = "obs_filter";
  static final String JOIN = "join";
  static final String ENCODE_LABELS = "encode_labels";
  static final String UNKNOWN_LABEL = "unknown_label";
  static final String DTYPE = "dtype";
  static final String ROWS_PER_ENDPOINT = "rows_per_endpoint";
  static final String ROWS_PER_BATCH = "rows_per_batch";
  static final String BYTES_PER_BATCH = "bytes_per_batch";
  static final String COMPRESSION = "compression";
  static final String RETURN_INDEX = "return_index";
  /**
   * MappedCollection's {@code cache_categories} and {@code parallel}: accepted (booleans) so
   * code ported from it runs unchanged. On a server they change nothing: categories are
   * always computed once per collection plan and kept, and stores are always read in parallel.
   */
  static final String CACHE_CATEGORIES = "cache_categories";
  static final String MATRIX_FORMAT = "matrix_format";
  static final String VAR_NAMES = "var_names";
  static final String VAR_KEY = "var_key";
  static final String PARALLEL = "parallel";

  public static final Set<String> KEYS =
      Set.of(COLLECTION, PATHS, LAYERS_KEYS, OBS_KEYS, OBSM_KEYS, OBS_FILTER, JOIN,
          ENCODE_LABELS, UNKNOWN_LABEL, DTYPE, ROWS_PER_ENDPOINT, ROWS_PER_BATCH, BYTES_PER_BATCH,
          COMPRESSION,
          EpochJson.SAMPLER, EpochJson.SPLIT, EpochJson.EQUAL_PARTS, RETURN_INDEX,
          CACHE_CATEGORIES, PARALLEL, MATRIX_FORMAT, VAR_NAMES, VAR_KEY);

  private RequestJson() {}

  /**
   * Parses a request body of at most {@link RequestLimits#MAX_REQUEST_BYTES} UTF-8 JSON bytes
   * into an object node, or fails with a {@link RequestException}.
   */
  public static ObjectNode readObject(byte[] utf8, String what) {
    RequestLimits.checkBytes(what, utf8.length, RequestLimits.MAX_REQUEST_BYTES);
    JsonNode node;
    try {
      node = MAPPER.readTree(new String(utf8, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new RequestException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new RequestException(what + " must be a JSON object");
    }
    return (ObjectNode) node;
  }

  /**
   * Parses a request object.
   *
   * @param collections looks up a configured collection's request by name (throws when unknown)
   * @param extraKeys keys the caller handles itself (e.g. {@code args} of an action)
   */
  public static CollectionRequest parse(
      JsonNode node, Function<String, CollectionRequest> collections, Set<String> extraKeys) {
    if (!node.isObject()) {
      throw new RequestException("request must be a JSON object");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!KEYS.contains(key) && !extraKeys.contains(key)) {
        throw new RequestException(
            "unknown request key \"" + key + "\"; allowed keys are " + sortedKeys(extraKeys));
      }
    }
    for (String accepted : List.of(CACHE_CATEGORIES, PARALLEL)) {
      if (node.has(accepted)) {
        bool(node.get(accepted), accepted); // a typo'd value is still an error
      }
    }
    boolean hasCollection = node.hasNonNull(COLLECTION);
    boolean hasPaths = node.has(PATHS);
    if (hasCollection == hasPaths) {
      throw new RequestException("a request names either \"collection\" or \"paths\", not "
          + (hasCollection ? "both" : "neither"));
    }
    CollectionRequest base;
    if (hasCollection) {
      base = collections.apply(text(node.get(COLLECTION), COLLECTION));
    } else {
      List<String> paths = stringList(node.get(PATHS), PATHS);
      if (paths.isEmpty()) {
        throw new RequestException("\"paths\" must name at least one store");
      }
      base = CollectionRequest.ofPaths(paths);
    }
    return new CollectionRequest(
        base.collection(),
        base.paths(),
        node.has(LAYERS_KEYS) ? layersKeys(node.get(LAYERS_KEYS)) : base.layersKeys(),
        node.has(OBS_KEYS) ? optionalStringList(node.get(OBS_KEYS), OBS_KEYS) : base.obsKeys(),
        node.has(OBSM_KEYS) ? optionalStringList(node.get(OBSM_KEYS), OBSM_KEYS)
            : base.obsmKeys(),
        node.has(OBS_FILTER) ? obsFilter(node.get(OBS_FILTER)) : base.obsFilter(),
        node.has(JOIN) ? join(node.get(JOIN)) : base.join(),
        node.has(ENCODE_LABELS) ? encodeLabels(node.get(ENCODE_LABELS)) : base.encodeLabels(),
        node.has(UNKNOWN_LABEL) ? unknownLabel(node.get(UNKNOWN_LABEL)) : base.unknownLabel(),
        node.has(DTYPE) ? dtype(node.get(DTYPE)) : base.dtype(),
        // Boxed on purpose: a primitive branch would unbox the other one's null.
        node.has(ROWS_PER_ENDPOINT)
            ? Long.valueOf(positiveLong(node.get(ROWS_PER_ENDPOINT), ROWS_PER_ENDPOINT,
                Long.MAX_VALUE))
            : base.rowsPerEndpoint(),
        // A caller's own batch size, by rows or by bytes, replaces the configured one.
        node.has(ROWS_PER_BATCH) ? Integer.valueOf((int) positiveLong(node.get(ROWS_PER_BATCH),
            ROWS_PER_BATCH, RequestLimits.MAX_ROWS_PER_BATCH))
            : node.has(BYTES_PER_BATCH) ? null : base.rowsPerBatch(),
        node.has(BYTES_PER_BATCH) ? Long.valueOf(positiveLong(node.get(BYTES_PER_BATCH),
            BYTES_PER_BATCH, RequestLimits.MAX_BYTES_PER_BATCH))
            : node.has(ROWS_PER_BATCH) ? null : base.bytesPerBatch(),
        node.has(COMPRESSION) ? compression(node.get(COMPRESSION)) : base.compression(),
        epoch(node, base.epoch()),
        node.has(RETURN_INDEX) ? bool(node.get(RETURN_INDEX), RETURN_INDEX)
            : base.returnIndex(),
        matrix(node, base.matrix()));
  }

  /** matrix_format, var_names and var_key: each given or the base's. */
  private static MatrixOptions matrix(JsonNode node, MatrixOptions base) {
    MatrixFormat format = base.format();
    if (node.has(MATRIX_FORMAT)) {
      JsonNode f = node.get(MATRIX_FORMAT);
      if (!f.isNull() && !f.isTextual()) {
        throw new RequestException("\"matrix_format\" must be a string, got " + brief(f));
      }
      format = MatrixFormat.fromJson(f.isNull() ? null : f.asText());
    }
    List<String> names = base.varNames();
    if (node.has(VAR_NAMES)) {
      JsonNode v = node.get(VAR_NAMES);
      if (v.isNull()) {
        names = null;
      } else {
        if (!v.isArray()) {
          throw new RequestException("\"var_names\" must be a list of strings, got " + brief(v));
        }
        RequestLimits.checkCount(VAR_NAMES, v.size(), RequestLimits.MAX_VAR_NAMES, "entries");
        names = new ArrayList<>();
        for (JsonNode e : v) {
          if (!e.isTextual()) {
            throw new RequestException("\"var_names\" must hold strings only, got " + brief(e));
          }
          names.add(boundedText(e.asText(), VAR_NAMES));
        }
      }
    }
    String key = base.varKey();
    if (node.has(VAR_KEY)) {
      key = node.get(VAR_KEY).isNull() ? null : text(node.get(VAR_KEY), VAR_KEY);
    }
    return new MatrixOptions(format, names, key);
  }

  /** The request's epoch: each of sampler, split and equal_parts given or the base's. */
  private static EpochSpec epoch(JsonNode node, EpochSpec base) {
    return new EpochSpec(
        node.has(EpochJson.SAMPLER) ? EpochJson.sampler(node.get(EpochJson.SAMPLER))
            : base.sampler(),
        node.has(EpochJson.SPLIT) ? EpochJson.split(node.get(EpochJson.SPLIT)) : base.split(),
        node.has(EpochJson.EQUAL_PARTS) ? EpochJson.equalParts(node.get(EpochJson.EQUAL_PARTS))
            : base.parts());
  }

  private static boolean bool(JsonNode n, String key) {
    if (!n.isBoolean()) {
      throw new RequestException("\"" + key + "\" must be true or false, got " + brief(n));
    }
    return n.asBoolean();
  }

  private static String sortedKeys(Set<String> extra) {
    List<String> all = new ArrayList<>(KEYS);
    all.addAll(extra);
    all.sort(null);
    return all.toString();
  }

  /** The normalised JSON form: every key explicit, so a ticket is self-contained. */
  public static ObjectNode toJson(CollectionRequest r) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode o = f.objectNode();
    if (r.collection() != null) {
      o.put(COLLECTION, r.collection());
    } else {
      o.set(PATHS, strings(r.paths()));
    }
    o.set(LAYERS_KEYS, strings(r.layersKeys()));
    o.set(OBS_KEYS, strings(r.obsKeys()));
    o.set(OBSM_KEYS, strings(r.obsmKeys()));
    ObjectNode filter = o.putObject(OBS_FILTER);
    r.obsFilter().forEach((k, values) -> {
      ArrayNode arr = filter.putArray(k);
      values.forEach(v -> arr.add(MAPPER.valueToTree(v)));
    });
    o.put(JOIN, r.join().jsonName());
    if (r.encodeLabels().all()) {
      o.put(ENCODE_LABELS, true);
    } else if (r.encodeLabels().keys().isEmpty()) {
      o.put(ENCODE_LABELS, false);
    } else {
      o.set(ENCODE_LABELS, strings(r.encodeLabels().keys()));
    }
    if (r.unknownLabel().forAll() != null) {
      o.put(UNKNOWN_LABEL, r.unknownLabel().forAll());
    } else if (!r.unknownLabel().byKey().isEmpty()) {
      ObjectNode u = o.putObject(UNKNOWN_LABEL);
      new TreeMap<>(r.unknownLabel().byKey()).forEach(u::put);
    } else {
      o.putNull(UNKNOWN_LABEL);
    }
    if (r.dtype() != null) {
      o.put(DTYPE, r.dtype().numpyName());
    } else {
      o.putNull(DTYPE);
    }
    if (r.rowsPerEndpoint() != null) {
      o.put(ROWS_PER_ENDPOINT, r.rowsPerEndpoint());
    }
    if (r.rowsPerBatch() != null) {
      o.put(ROWS_PER_BATCH, r.rowsPerBatch());
    }
    if (r.bytesPerBatch() != null) {
      o.put(BYTES_PER_BATCH, r.bytesPerBatch());
    }
    if (r.compression() != Compression.NONE) {
      o.put(COMPRESSION, r.compression().jsonName());
    }
    EpochJson.write(r.epoch(), o);
    if (r.returnIndex()) {
      o.put(RETURN_INDEX, true);
    }
    if (r.matrix().format() != MatrixFormat.DENSE) {
      o.put(MATRIX_FORMAT, r.matrix().format().jsonName());
    }
    if (r.matrix().varNames() != null) {
      o.set(VAR_NAMES, strings(r.matrix().varNames()));
    }
    if (r.matrix().varKey() != null) {
      o.put(VAR_KEY, r.matrix().varKey());
    }
    return o;
  }

  private static ArrayNode strings(List<String> values) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    values.forEach(a::add);
    return a;
  }

  private static Compression compression(JsonNode n) {
    if (!n.isNull() && !n.isTextual()) {
      throw new RequestException("\"compression\" must be a string, got " + n);
    }
    return Compression.fromJson(n.isNull() ? null : n.asText());
  }

  /** A string value of at most {@link RequestLimits#MAX_STRING_LENGTH} characters. */
  static String text(JsonNode n, String key) {
    if (n == null || !n.isTextual()) {
      throw new RequestException("\"" + key + "\" must be a string, got "
          + (n == null ? "nothing" : brief(n)));
    }
    return boundedText(n.asText(), key);
  }

  private static String boundedText(String s, String key) {
    if (s.length() > RequestLimits.MAX_STRING_LENGTH) {
      throw new RequestException("\"" + key + "\" holds a string of " + s.length()
          + " characters; at most " + RequestLimits.MAX_STRING_LENGTH + " are allowed");
    }
    return s;
  }

  /** A JSON value for a message, cut short: a message must not echo megabytes back. */
  static String brief(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " characters)";
  }

  /** A string or a list of strings, bounded in length and count. */
  static List<String> stringList(JsonNode n, String key) {
    if (n != null && n.isTextual()) {
      return List.of(boundedText(n.asText(), key));
    }
    if (n == null || !n.isArray()) {
      throw new RequestException("\"" + key + "\" must be a string or a list of strings, got "
          + brief(n));
    }
    RequestLimits.checkCount(key, n.size(), RequestLimits.MAX_LIST_LENGTH, "entries");
    List<String> out = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw new RequestException("\"" + key + "\" must hold strings only, got " + brief(e));
      }
      out.add(boundedText(e.asText(), key));
    }
    return out;
  }

  private static List<String> optionalStringList(JsonNode n, String key) {
    return n.isNull() ? List.of() : stringList(n, key);
  }

  /** null is ["X"]; [] reads no matrix (obs and obsm only), as MappedCollection allows. */
  private static List<String> layersKeys(JsonNode n) {
    return n.isNull() ? List.of("X") : stringList(n, LAYERS_KEYS);
  }

  private static Map<String, List<Object>> obsFilter(JsonNode n) {
    if (n.isNull()) {
      return Map.of();
    }
    if (!n.isObject()) {
      throw new RequestException("\"obs_filter\" must be an object {key: value or [values]}");
    }
    Map<String, List<Object>> out = new LinkedHashMap<>();
    long total = 0;
    for (JsonNode v : n) {
      total += v.isArray() ? v.size() : 1;
    }
    RequestLimits.checkCount(OBS_FILTER, total, RequestLimits.MAX_FILTER_VALUES, "values");
    RequestLimits.checkCount(OBS_FILTER, n.size(), RequestLimits.MAX_LIST_LENGTH, "keys");
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      boundedText(e.getKey(), OBS_FILTER);
      List<Object> values = new ArrayList<>();
      if (e.getValue().isArray()) {
        for (JsonNode v : e.getValue()) {
          values.add(scalar(v, e.getKey()));
        }
      } else {
        values.add(scalar(e.getValue(), e.getKey()));
      }
      out.put(e.getKey(), values);
    }
    return out;
  }

  private static Object scalar(JsonNode v, String key) {
    if (v.isNull()) {
      return null;
    }
    if (v.isTextual()) {
      return boundedText(v.asText(), OBS_FILTER + "." + key);
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    if (v.isIntegralNumber()) {
      return v.asLong();
    }
    if (v.isNumber()) {
      return v.asDouble();
    }
    throw new RequestException(
        "obs_filter value for \"" + key + "\" must be a string, number, bool or null, got "
            + brief(v));
  }

  private static JoinMode join(JsonNode n) {
    if (n.isNull()) {
      return JoinMode.NONE;
    }
    return JoinMode.fromJson(text(n, JOIN));
  }

  private static EncodeLabels encodeLabels(JsonNode n) {
    if (n.isBoolean()) {
      return n.asBoolean() ? EncodeLabels.ALL : EncodeLabels.NONE;
    }
    if (n.isArray()) {
      return EncodeLabels.of(stringList(n, ENCODE_LABELS));
    }
    throw new RequestException("\"encode_labels\" must be true, false or a list of obs keys");
  }

  private static UnknownLabel unknownLabel(JsonNode n) {
    if (n.isNull()) {
      return UnknownLabel.NONE;
    }
    if (n.isTextual()) {
      return UnknownLabel.of(n.asText());
    }
    if (n.isObject()) {
      Map<String, String> byKey = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        byKey.put(e.getKey(), text(e.getValue(), UNKNOWN_LABEL + "." + e.getKey()));
      }
      return UnknownLabel.of(byKey);
    }
    throw new RequestException("\"unknown_label\" must be a string, an object or null");
  }

  private static ElementType dtype(JsonNode n) {
    return n.isNull() ? null : ElementType.parseDtype(text(n, DTYPE));
  }

  private static long positiveLong(JsonNode n, String key, long max) {
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() <= 0) {
      throw new RequestException("\"" + key + "\" must be a positive integer, got " + n);
    }
    if (n.asLong() > max) {
      throw new RequestException("\"" + key + "\" is " + n.asLong() + "; at most " + max
          + " is allowed");
    }
    return n.asLong();
  }
}
