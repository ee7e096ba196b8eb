package io.annflight.sampling;

import io.annflight.collection.CollectionPlan;
import io.annflight.schema.EpochSpec;
import io.annflight.schema.EqualParts;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestLimits;
import io.annflight.schema.Sampler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the epoch order of a plan and an {@link EpochSpec}: the split's rows, ordered by the
 * sampler, cut into equal parts; and keeps the last few, since every stream of an epoch asks
 * for the same one. Orders are pure functions of the plan's rows and the spec.
 */
public final class EpochOrders {
  private static final int CACHED = 16;

  private record Key(CollectionPlan plan, EpochSpec spec) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.plan == plan && k.spec.equals(spec);
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(plan) * 31 + spec.hashCode();
    }
  }

  private final Map<Key, EpochOrder> cache = new LinkedHashMap<>(CACHED, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, EpochOrder> eldest) {
      return size() > CACHED;
    }
  };

  /** The epoch of {@code spec} over the plan's rows. */
  public EpochOrder of(CollectionPlan plan, EpochSpec spec) {
    if (spec.isCollectionOrder()) {
      return EpochOrder.identity(plan.nObs());
    }
    Key key = new Key(plan, spec);
    synchronized (cache) {
      EpochOrder hit = cache.get(key);
      if (hit != null) {
        return hit;
      }
    }
    EpochOrder built = build(plan, spec); // outside the lock: others' epochs are not held up
    synchronized (cache) {
      cache.put(key, built);
    }
    return built;
  }

  static EpochOrder build(CollectionPlan plan, EpochSpec spec) {
    if (plan.nObs() > RequestLimits.MAX_EPOCH_ROWS) {
      throw new RequestException("a sampler, split or equal_parts holds the epoch's order in"
          + " memory, at most " + RequestLimits.MAX_EPOCH_ROWS + " rows; this collection has "
          + plan.nObs() + " (narrow it with obs_filter, or read it in collection order)");
    }
    EpochRows rows = new EpochRows(plan, SplitRows.of(plan, spec.split()));
    int[] order = sampler(spec.sampler()).order(rows);
    return parts(EpochOrder.of(order), spec.parts());
  }

  static EpochSampler sampler(Sampler s) {
    if (s instanceof Sampler.Shuffle sh) {
      return new ShuffleSampler(sh);
    }
    if (s instanceof Sampler.BlockShuffle b) {
      return new BlockShuffleSampler(b);
    }
    if (s instanceof Sampler.Weighted w) {
      return new WeightedSampler(w);
    }
    return new SequentialSampler();
  }

  /**
   * Equal parts: a length that {@code count} divides, the remainder dropped or the epoch padded
   * with its first positions again (torch's DistributedSampler pads the same way).
   */
  static EpochOrder parts(EpochOrder order, EqualParts parts) {
    if (parts == null) {
      return order;
    }
    long n = order.length();
    long per = parts.pad() ? (n + parts.count() - 1) / parts.count() : n / parts.count();
    long length = per * parts.count();
    if (n == 0 && length > 0) {
      throw new RequestException("\"equal_parts\" cannot pad an empty epoch");
    }
    return new EpochOrder() {
      @Override
      public long length() {
        return length;
      }

      @Override
      public long row(long position) {
        return order.row(position % n);
      }
    };
  }
}
