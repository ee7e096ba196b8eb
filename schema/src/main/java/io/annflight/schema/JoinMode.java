package io.annflight.schema;

/** How the variables of the stores are aligned (MappedCollection's {@code join}). */
public enum JoinMode {
  /** Variables present in every store, in the first store's order. */
  INNER("inner"),
  /** Sorted union of all variables; a store's missing variables read as zero. */
  OUTER("outer"),
  /** No alignment: each row keeps its store's own variables (JSON {@code null}). */
  NONE(null);

  private final String jsonName;

  JoinMode(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The JSON value: {@code "inner"}, {@code "outer"} or null. */
  public String jsonName() {
    return jsonName;
  }

  public static JoinMode fromJson(String value) {
    if (value == null) {
      return NONE;
    }
    for (JoinMode m : values()) {
      if (value.equals(m.jsonName)) {
        return m;
      }
    }
    throw new RequestException(
        "join must be \"inner\", \"outer\" or null, got \"" + value + "\"");
  }
}
