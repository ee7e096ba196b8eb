package io.annflight.schema;

/** How the rows of a layers key travel: dense fixed-size lists, or their non-zero entries. */
public enum MatrixFormat {
  DENSE("dense"),
  /**
   * {@code List<Struct<index: int32, value: T>>}: a row is its non-zero entries, ascending
   * {@code index}; the list offsets are the batch's CSR {@code indptr}.
   */
  CSR("csr");

  private final String jsonName;

  MatrixFormat(String jsonName) {
    this.jsonName = jsonName;
  }

  public String jsonName() {
    return jsonName;
  }

  /** Parses the JSON value; null means dense. */
  public static MatrixFormat fromJson(String value) {
    if (value == null) {
      return DENSE;
    }
    for (MatrixFormat f : values()) {
      if (value.equals(f.jsonName)) {
        return f;
      }
    }
    throw new RequestException(
        "matrix_format must be \"dense\" or \"csr\", got \"" + value + "\"");
  }
}
