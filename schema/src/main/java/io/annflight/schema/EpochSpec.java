package io.annflight.schema;

/**
 * Which rows an epoch holds and in which order: the split, the sampler and the equal parts.
 * Separate from what the rows hold (the collection query) and from how they travel (endpoints,
 * batches, compression). Immutable.
 *
 * @param split null: every row
 * @param parts null: endpoints as rows_per_endpoint or the defaults say
 */
public record EpochSpec(Sampler sampler, Split split, EqualParts parts) {
  public static final EpochSpec COLLECTION_ORDER = new EpochSpec(Sampler.SEQUENTIAL, null, null);

  public EpochSpec {
    java.util.Objects.requireNonNull(sampler, "sampler");
  }

  /** Whether ticket positions are collection rows (no split, sequential, no parts). */
  public boolean isCollectionOrder() {
    return sampler instanceof Sampler.Sequential && split == null && parts == null;
  }
}
