package io.annflight.schema;

/**
 * The {@code split} request key: a deterministic fraction {@code holdout} of the rows kept out
 * (validation), chosen per row from the seed and the row's position in the unfiltered
 * collection, so the two parts are disjoint, together whole, and stable when stores are
 * appended or an obs_filter changes.
 */
public record Split(double holdout, long seed, Part part) {
  public enum Part {
    TRAIN("train"), HOLDOUT("holdout");

    private final String jsonName;

    Part(String jsonName) {
      this.jsonName = jsonName;
    }

    public String jsonName() {
      return jsonName;
    }
  }

  public Split {
    if (!(holdout > 0 && holdout < 1)) {
      throw new RequestException("\"split.holdout\" must lie strictly between 0 and 1, got "
          + holdout);
    }
  }
}
