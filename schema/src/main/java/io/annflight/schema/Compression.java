package io.annflight.schema;

/**
 * How record batch buffers travel: Arrow IPC buffer compression, which pyarrow (and so DuckDB,
 * Polars and PyTorch loaders) undoes transparently. Off by default because Arrow Java's
 * {@code FlightStream} cannot read compressed batches.
 */
public enum Compression {
  NONE("none"),
  /**
   * Arrow's {@code LZ4_FRAME}: cheap to pack and unpack; a sparse expression matrix sent dense
   * shrinks several-fold (about 15x at 95 % zeros).
   */
  LZ4("lz4"),
  /** Arrow's {@code ZSTD}: smaller than LZ4, costs the server about twice the CPU. */
  ZSTD("zstd");

  private final String jsonName;

  Compression(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The JSON value: {@code "none"}, {@code "lz4"} or {@code "zstd"}. */
  public String jsonName() {
    return jsonName;
  }

  /** Parses the JSON value; null means none. */
  public static Compression fromJson(String value) {
    if (value == null) {
      return NONE;
    }
    for (Compression c : values()) {
      if (value.equals(c.jsonName)) {
        return c;
      }
    }
    throw new RequestException(
        "compression must be \"none\", \"lz4\" or \"zstd\", got \"" + value + "\"");
  }
}
