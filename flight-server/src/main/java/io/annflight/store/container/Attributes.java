package io.annflight.store.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.store.MalformedStoreException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The attributes of one node as JSON values, whatever the container stores them as (Zarr keeps
 * JSON; HDF5 attributes are converted: strings, numbers, booleans and arrays of them; an HDF5
 * object reference becomes the absolute path of its target, starting with {@code /}). Typed
 * getters fail with an error naming the file, the element and the attribute.
 */
public final class Attributes {

  private final Path file;
  private final String element;
  private final ObjectNode values;

  public Attributes(Path file, String element, ObjectNode values) {
    this.file = file;
    this.element = element;
    this.values = values;
  }

  public static Attributes empty(Path file, String element) {
    return new Attributes(file, element, JsonNodeFactory.instance.objectNode());
  }

  public boolean has(String name) {
    return values.has(name);
  }

  /** The raw value; a missing node when absent. */
  public JsonNode get(String name) {
    return values.path(name);
  }

  /** A string attribute (a one-element list of strings counts); empty when absent. */
  public Optional<String> string(String name) {
    JsonNode v = values.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (v.isArray() && v.size() == 1) {
      v = v.get(0);
    }
    if (!v.isTextual()) {
      throw wrong(name, v, "a string");
    }
    return Optional.of(v.asText());
  }

  /** {@code encoding-type}, or empty when the node has none (anndata before 0.8). */
  public Optional<String> encodingType() {
    return string("encoding-type");
  }

  /**
   * A list of strings ({@code column-order}); a lone string is a list of one, and an empty
   * numeric list (h5py writes an empty list as float64 []) is empty. Empty when absent.
   */
  public Optional<List<String>> strings(String name) {
    JsonNode v = values.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.asText());
      return Optional.of(out);
    }
    if (!v.isArray()) {
      throw wrong(name, v, "a list of strings");
    }
    for (JsonNode item : v) {
      if (!item.isTextual()) {
        throw wrong(name, v, "a list of strings");
      }
      out.add(item.asText());
    }
    return Optional.of(out);
  }

  /** A boolean attribute ({@code ordered}): true/false, 0/1 or "true"/"false"; absent is the default. */
  public boolean flag(String name, boolean absent) {
    JsonNode v = values.get(name);
    if (v == null || v.isNull()) {
      return absent;
    }
    if (v.isArray() && v.size() == 1) {
      v = v.get(0);
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    if (v.isIntegralNumber()) {
      return v.asLong() != 0;
    }
    if (v.isTextual() && (v.asText().equalsIgnoreCase("true") || v.asText().equalsIgnoreCase("false"))) {
      return v.asText().equalsIgnoreCase("true");
    }
    throw wrong(name, v, "a boolean");
  }

  /** A list of non-negative integers ({@code shape}); empty when absent. */
  public Optional<long[]> counts(String name) {
    JsonNode v = values.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isArray()) {
      throw wrong(name, v, "a list of non-negative integers");
    }
    long[] out = new long[v.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode item = v.get(i);
      if (!item.canConvertToLong() || !item.isIntegralNumber() || item.asLong() < 0) {
        throw wrong(name, v, "a list of non-negative integers");
      }
      out[i] = item.asLong();
    }
    return Optional.of(out);
  }

  private MalformedStoreException wrong(String name, JsonNode v, String expected) {
    String shown = v.toString();
    if (shown.length() > 200) {
      shown = shown.substring(0, 200) + "...";
    }
    return new MalformedStoreException(file, element,
        "has attribute '" + name + "' = " + shown + ", expected " + expected);
  }
}
