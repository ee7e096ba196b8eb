package io.annflight.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** The JSON forms of {@code sampler}, {@code split} and {@code equal_parts}. */
final class EpochJson {
  static final String SAMPLER = "sampler";
  static final String SPLIT = "split";
  static final String EQUAL_PARTS = "equal_parts";

  private EpochJson() {}

  static Sampler sampler(JsonNode n) {
    if (n.isNull()) {
      return Sampler.SEQUENTIAL;
    }
    ObjectNode o = object(n, SAMPLER);
    String kind = RequestJson.text(o.get("kind"), SAMPLER + ".kind");
    long seed = integer(SAMPLER, o, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    long epoch = integer(SAMPLER, o, "epoch", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    return switch (kind) {
      case "sequential" -> {
        allow(o, Set.of("kind"));
        yield Sampler.SEQUENTIAL;
      }
      case "shuffle" -> {
        allow(o, Set.of("kind", "seed", "epoch"));
        yield new Sampler.Shuffle(seed, epoch);
      }
      case "block_shuffle" -> {
        allow(o, Set.of("kind", "seed", "epoch", "block_size", "pool_blocks"));
        yield new Sampler.BlockShuffle(seed, epoch,
            (int) integer(SAMPLER, o, "block_size", Sampler.BlockShuffle.DEFAULT_BLOCK_SIZE, 1,
                RequestLimits.MAX_BLOCK_SIZE),
            (int) integer(SAMPLER, o, "pool_blocks", Sampler.BlockShuffle.DEFAULT_POOL_BLOCKS, 1,
                RequestLimits.MAX_POOL_BLOCKS));
      }
      case "weighted" -> {
        allow(o, Set.of("kind", "seed", "epoch", "num_samples", "weights", "replacement"));
        Long numSamples = o.hasNonNull("num_samples")
            ? integer(SAMPLER, o, "num_samples", 0, 1, RequestLimits.MAX_NUM_SAMPLES) : null;
        JsonNode w = o.get("weights");
        if (w == null) {
          throw new RequestException("\"sampler.weights\" is required for kind \"weighted\":"
              + " {\"obs_keys\": [...], \"scaler\": null}");
        }
        ObjectNode weights = object(w, SAMPLER + ".weights");
        allow(weights, Set.of("obs_keys", "scaler"), SAMPLER + ".weights");
        List<String> keys =
            RequestJson.stringList(weights.get("obs_keys"), SAMPLER + ".weights.obs_keys");
        if (keys.isEmpty()) {
          throw new RequestException("\"sampler.weights.obs_keys\" must name at least one obs key");
        }
        JsonNode scaler = weights.get("scaler");
        Double sc = null;
        if (scaler != null && !scaler.isNull()) {
          if (!scaler.isNumber() || !(scaler.asDouble() > 0)) {
            throw new RequestException("\"sampler.weights.scaler\" must be a positive number or"
                + " null, got " + RequestJson.brief(scaler));
          }
          sc = scaler.asDouble();
        }
        JsonNode rep = o.get("replacement");
        if (rep != null && !rep.isBoolean()) {
          throw new RequestException("\"sampler.replacement\" must be true or false, got "
              + RequestJson.brief(rep));
        }
        yield new Sampler.Weighted(seed, epoch, numSamples, keys, sc,
            rep == null || rep.asBoolean());
      }
      default -> throw new RequestException("unknown \"sampler.kind\" \"" + kind
          + "\"; known: sequential, shuffle, block_shuffle, weighted");
    };
  }

  static Split split(JsonNode n) {
    if (n.isNull()) {
      return null;
    }
    ObjectNode o = object(n, SPLIT);
    allow(o, Set.of("holdout", "seed", "part"), SPLIT);
    JsonNode h = o.get("holdout");
    if (h == null || !h.isNumber()) {
      throw new RequestException("\"split.holdout\" must be a number in (0, 1), got "
          + (h == null ? "nothing" : RequestJson.brief(h)));
    }
    String part = o.has("part") ? RequestJson.text(o.get("part"), SPLIT + ".part") : "train";
    Split.Part p = switch (part) {
      case "train" -> Split.Part.TRAIN;
      case "holdout" -> Split.Part.HOLDOUT;
      default -> throw new RequestException("\"split.part\" must be \"train\" or \"holdout\","
          + " got \"" + part + "\"");
    };
    return new Split(h.asDouble(), integer(SPLIT, o, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE), p);
  }

  static EqualParts equalParts(JsonNode n) {
    if (n.isNull()) {
      return null;
    }
    ObjectNode o = object(n, EQUAL_PARTS);
    allow(o, Set.of("count", "remainder"), EQUAL_PARTS);
    if (!o.has("count")) {
      throw new RequestException("\"equal_parts.count\" is required");
    }
    int count = (int) integer(EQUAL_PARTS, o, "count", 1, 1, RequestLimits.MAX_ENDPOINTS);
    String remainder = o.has("remainder")
        ? RequestJson.text(o.get("remainder"), EQUAL_PARTS + ".remainder") : "drop";
    if (!remainder.equals("drop") && !remainder.equals("pad")) {
      throw new RequestException("\"equal_parts.remainder\" must be \"drop\" or \"pad\", got \""
          + remainder + "\"");
    }
    return new EqualParts(count, remainder.equals("pad"));
  }

  static void write(EpochSpec e, ObjectNode out) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    Sampler s = e.sampler();
    if (!(s instanceof Sampler.Sequential)) {
      ObjectNode o = out.putObject(SAMPLER);
      if (s instanceof Sampler.Shuffle sh) {
        o.put("kind", "shuffle").put("seed", sh.seed()).put("epoch", sh.epoch());
      } else if (s instanceof Sampler.BlockShuffle b) {
        o.put("kind", "block_shuffle").put("seed", b.seed()).put("epoch", b.epoch())
            .put("block_size", b.blockSize()).put("pool_blocks", b.poolBlocks());
      } else if (s instanceof Sampler.Weighted w) {
        o.put("kind", "weighted").put("seed", w.seed()).put("epoch", w.epoch());
        if (w.numSamples() != null) {
          o.put("num_samples", w.numSamples());
        }
        ObjectNode weights = o.putObject("weights");
        weights.set("obs_keys", f.arrayNode().addAll(w.obsKeys().stream()
            .map(f::textNode).toList()));
        if (w.scaler() != null) {
          weights.put("scaler", w.scaler());
        } else {
          weights.putNull("scaler");
        }
        o.put("replacement", w.replacement());
      }
    }
    if (e.split() != null) {
      out.putObject(SPLIT).put("holdout", e.split().holdout()).put("seed", e.split().seed())
          .put("part", e.split().part().jsonName());
    }
    if (e.parts() != null) {
      out.putObject(EQUAL_PARTS).put("count", e.parts().count())
          .put("remainder", e.parts().pad() ? "pad" : "drop");
    }
  }

  private static ObjectNode object(JsonNode n, String key) {
    if (!n.isObject()) {
      throw new RequestException("\"" + key + "\" must be an object, got " + RequestJson.brief(n));
    }
    return (ObjectNode) n;
  }

  private static void allow(ObjectNode o, Set<String> keys) {
    allow(o, keys, SAMPLER + " of kind \"" + o.get("kind").asText() + "\"");
  }

  private static void allow(ObjectNode o, Set<String> keys, String what) {
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!keys.contains(k)) {
        throw new RequestException("unknown key \"" + k + "\" in " + what + "; allowed: "
            + new java.util.TreeSet<>(keys));
      }
    }
  }

  private static long integer(String prefix, ObjectNode o, String key, long dflt, long min,
      long max) {
    JsonNode n = o.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    String name = prefix + "." + key;
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
      throw new RequestException("\"" + name + "\" must be an integer in [" + min + ", " + max
          + "], got " + RequestJson.brief(n));
    }
    return n.asLong();
  }
}
