package io.annflight.sampling;

import io.annflight.collection.CollectionPlan;
import io.annflight.schema.EpochSpec;
import io.annflight.schema.EqualParts;
import io.annflight.schema.RequestException;
import io.annflight.schema.Sampler;
import io.annflight.schema.Split;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Builds the epoch order of a plan and an {@link EpochSpec}: the split's rows, ordered by the
 * sampler, cut into equal parts. Orders are functions from positions to rows, pure functions
 * of the plan's rows and the spec, built in time and memory independent of the number of rows
 * except for what is kept here per plan, not per epoch: a split's part (a bit per row), a
 * weighted sampler's groups (4 bytes per row), and the few orders a weighted sampler without
 * replacement materialises.
 */
public final class EpochOrders {
  private final Cache<Object, EpochRows> parts = new Cache<>(4);
  private final Cache<Object, WeightedGroups> groups = new Cache<>(4);
  private final Cache<Object, EpochOrder> materialised = new Cache<>(2);

  /** The epoch of {@code spec} over the plan's rows. */
  public EpochOrder of(CollectionPlan plan, EpochSpec spec) {
    if (spec.isCollectionOrder()) {
      return EpochOrder.identity(plan.nObs());
    }
    EpochRows rows = spec.split() == null ? EpochRows.all(plan)
        : parts.get(new PlanKey(plan, spec.split()), () -> SplitRows.of(plan, spec.split()));
    EpochOrder order;
    if (spec.sampler() instanceof Sampler.Weighted w && !w.replacement()) {
      order = materialised.get(new PlanKey(plan, List.of(spec.split() == null ? "" : spec.split(),
          w)), () -> sampler(w, plan, spec.split()).order(rows));
    } else {
      order = sampler(spec.sampler(), plan, spec.split()).order(rows);
    }
    return parts(order, spec.parts());
  }

  /** The order built afresh, nothing cached (tests). */
  static EpochOrder build(CollectionPlan plan, EpochSpec spec) {
    return new EpochOrders().of(plan, spec);
  }

  private EpochSampler sampler(Sampler s, CollectionPlan plan, Split split) {
    if (s instanceof Sampler.Shuffle sh) {
      return new ShuffleSampler(sh);
    }
    if (s instanceof Sampler.BlockShuffle b) {
      return new BlockShuffleSampler(b);
    }
    if (s instanceof Sampler.Weighted w) {
      return new WeightedSampler(w, rows -> groups.get(
          new PlanKey(plan, List.of(split == null ? "" : split, w.obsKeys(),
              w.scaler() == null ? "" : w.scaler())),
          () -> WeightedGroups.of(rows,
              WeightedSampler.labelWeights(rows, w)::forEachWeight, w.obsKeys())));
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

      @Override
      public void rows(long first, int count, long[] out, int at) {
        if (first + count <= n) {
          order.rows(first, count, out, at);
        } else {
          EpochOrder.super.rows(first, count, out, at);
        }
      }
    };
  }

  /** A key of what is kept per plan: the plan by identity (plans are immutable). */
  private record PlanKey(CollectionPlan plan, Object what) {
    @Override
    public boolean equals(Object o) {
      return o instanceof PlanKey k && k.plan == plan && k.what.equals(what);
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(plan) * 31 + what.hashCode();
    }
  }

  /** The last few values by key, built outside the lock (others are not held up). */
  private static final class Cache<K, V> {
    private final Map<K, V> map;

    Cache(int size) {
      map = new LinkedHashMap<>(size, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
          return size() > size;
        }
      };
    }

    V get(K key, Supplier<V> build) {
      synchronized (map) {
        V hit = map.get(key);
        if (hit != null) {
          return hit;
        }
      }
      V built = build.get();
      synchronized (map) {
        map.put(key, built);
      }
      return built;
    }
  }
}
