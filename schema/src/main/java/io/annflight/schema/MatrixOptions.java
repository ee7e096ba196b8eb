package io.annflight.schema;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How matrix columns are shaped: their wire format, and an optional fixed variable vocabulary.
 *
 * @param format dense rows or CSR entries
 * @param varNames the matrix columns, exactly and in this order (an outer join onto the list;
 *     overrides {@code join}); null for MappedCollection's joins
 * @param varKey the var column {@code varNames} are matched against; null for the var index
 */
public record MatrixOptions(MatrixFormat format, List<String> varNames, String varKey) {

  public static final MatrixOptions DEFAULT = new MatrixOptions(MatrixFormat.DENSE, null, null);

  public MatrixOptions {
    Objects.requireNonNull(format, "format");
    if (varNames != null) {
      varNames = List.copyOf(varNames);
      Set<String> seen = new HashSet<>();
      for (String v : varNames) {
        if (!seen.add(v)) {
          throw new RequestException("var_names lists \"" + v + "\" twice");
        }
      }
      if (varNames.isEmpty()) {
        throw new RequestException("var_names must name at least one variable");
      }
    }
    if (varKey != null && varNames == null) {
      throw new RequestException("var_key matches var_names against a var column; give"
          + " var_names too");
    }
  }

  public boolean sparse() {
    return format == MatrixFormat.CSR;
  }
}
