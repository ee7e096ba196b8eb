package io.annflight.schema;

/**
 * The {@code equal_parts} request key: the epoch in {@code count} parts of equal length (one per
 * rank x worker), one endpoint each, so that no rank waits on an uneven last batch. The
 * remainder is dropped, or the epoch padded by repeating its first positions, as torch's
 * {@code DistributedSampler} does.
 */
public record EqualParts(int count, boolean pad) {
  public EqualParts {
    if (count <= 0 || count > RequestLimits.MAX_ENDPOINTS) {
      throw new RequestException("\"equal_parts.count\" must be in [1, "
          + RequestLimits.MAX_ENDPOINTS + "], got " + count);
    }
  }
}
