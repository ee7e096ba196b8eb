package io.annflight.flight;

import java.util.Set;

/**
 * The DoAction types: MappedCollection's query methods plus {@code describe}. {@code args} holds
 * the method's own parameter names.
 */
public enum ActionKind {
  SHAPE("shape", Set.of(),
      "JSON [n_obs, n_vars] of the collection (n_vars is -1 when join is null and the stores' "
          + "widths differ). args: none."),
  ORIGINAL_SHAPES("original_shapes", Set.of(),
      "JSON [[n_obs, n_vars], ...]: each store's shape, n_obs after obs_filter. args: none."),
  VAR_JOINT("var_joint", Set.of(),
      "JSON list of the joined var names (inner: intersection, outer: union), or null when "
          + "join is null. args: none."),
  CHECK_VARS_SORTED("check_vars_sorted", Set.of("ascending"),
      "JSON bool: whether every store's var names are sorted. "
          + "args: ascending (bool, default true)."),
  CHECK_VARS_NON_ALIGNED("check_vars_non_aligned", Set.of("vars"),
      "JSON list of the indices of the stores whose var names differ from vars. "
          + "args: vars (list of str, required)."),
  GET_MERGED_CATEGORIES("get_merged_categories", Set.of("label_key"),
      "JSON sorted list of the categories of an obs key over all stores. "
          + "args: label_key (str, required)."),
  GET_MERGED_LABELS("get_merged_labels", Set.of("label_key"),
      "Arrow IPC stream, one column named after label_key with one label per collection row. "
          + "args: label_key (str, required)."),
  GET_LABEL_WEIGHTS("get_label_weights", Set.of("obs_keys", "scaler", "return_categories"),
      "Per-row sampling weights 1/count (or scaler/(scaler+count)) of the labels of obs_keys "
          + "(joined with \"__\" when several): an Arrow IPC stream with one float64 column "
          + "\"weight\", or with return_categories=true a JSON object {label: weight}. "
          + "args: obs_keys (str or list, required), scaler (number, optional), "
          + "return_categories (bool, default false)."),
  DESCRIBE("describe", Set.of(),
      "JSON object with everything a client needs to plan: the normalised request, n_obs, "
          + "n_vars, the output columns and, per store, path, format, n_obs, n_vars, offset, "
          + "layers, obsm keys, obs columns and whether it has raw. args: none.");

  private final String type;
  private final Set<String> args;
  private final String description;

  ActionKind(String type, Set<String> args, String description) {
    this.type = type;
    this.args = args;
    this.description = description;
  }

  public String type() {
    return type;
  }

  public Set<String> args() {
    return args;
  }

  public String description() {
    return "Body: a request object ({\"collection\": name} or {\"paths\": [...]}, other request "
        + "keys allowed) with \"args\". Result: " + description;
  }

  /** @throws io.annflight.schema.RequestException naming the known types */
  public static ActionKind of(String type) {
    for (ActionKind k : values()) {
      if (k.type.equals(type)) {
        return k;
      }
    }
    throw new io.annflight.schema.RequestException("unknown action \"" + type + "\"; known: "
        + java.util.Arrays.stream(values()).map(ActionKind::type).toList());
  }
}
