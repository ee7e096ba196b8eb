package io.annflight.collection;

import io.annflight.store.AnnDataStore;

import io.annflight.schema.CollectionRequest;
import io.annflight.schema.OutputSchema;
import java.util.List;

/**
 * Everything resolved for one request over one list of stores: which rows, how variables join,
 * how labels encode, and the output schema. Immutable and shared by concurrent streams.
 */
public final class CollectionPlan {
  private final CollectionRequest request;
  private final List<StoreHandle> stores;
  private final RowIndex rows;
  private final VarJoin varJoin;
  private final List<MatrixColumnPlan> layers;
  private final List<LabelColumnPlan> labels;
  private final List<MatrixColumnPlan> obsm;
  private final OutputSchema outputSchema;

  CollectionPlan(CollectionRequest request, List<StoreHandle> stores, RowIndex rows,
      VarJoin varJoin, List<MatrixColumnPlan> layers, List<LabelColumnPlan> labels,
      List<MatrixColumnPlan> obsm, OutputSchema outputSchema) {
    this.request = request;
    this.stores = List.copyOf(stores);
    this.rows = rows;
    this.varJoin = varJoin;
    this.layers = List.copyOf(layers);
    this.labels = List.copyOf(labels);
    this.obsm = List.copyOf(obsm);
    this.outputSchema = outputSchema;
  }

  public CollectionRequest request() {
    return request;
  }

  public long nObs() {
    return rows.nObs();
  }

  public RowIndex rows() {
    return rows;
  }

  public VarJoin varJoin() {
    return varJoin;
  }

  public List<StoreHandle> storeHandles() {
    return stores;
  }

  public List<MatrixColumnPlan> layers() {
    return layers;
  }

  public List<LabelColumnPlan> labels() {
    return labels;
  }

  public List<MatrixColumnPlan> obsm() {
    return obsm;
  }

  public OutputSchema outputSchema() {
    return outputSchema;
  }

  public List<StoreInfo> stores() {
    return java.util.stream.IntStream.range(0, stores.size()).mapToObj(s -> {
      StoreHandle h = stores.get(s);
      AnnDataStore st = h.store();
      List<String> obsm = st.obsmNames();
      return new StoreInfo(h.path(), st.format(), rows.count(s), h.varIndex().size(),
          rows.offset(s), st.layerNames(), obsm, st.obs().columnNames(), st.hasRaw(),
          st.hasX(), obsm.stream().map(k -> st.elementKind("obsm/" + k)).toList(),
          st.modalities());
    }).toList();
  }

  /** The joint variables; null when join is none and the stores' variables differ. */
  public List<String> varJoint() {
    return varJoin.joint();
  }

  /** Names of {@code var_names} no store has (their columns are all zeros). */
  public List<String> unmatchedVarNames() {
    return varJoin.unmatched();
  }

  public CollectionQueries queries() {
    return new CollectionQueries(this);
  }

  /**
   * Leases every store of the plan, so none is closed while the lease is held (a store replaced
   * on disk closes when its last lease ends); null when one was closed already.
   */
  Lease lease() {
    for (int s = 0; s < stores.size(); s++) {
      if (!stores.get(s).acquire()) {
        for (int r = 0; r < s; r++) {
          stores.get(r).release();
        }
        return null;
      }
    }
    return new Lease(this);
  }

  /** A plan whose stores stay open until {@link #close()}; close it exactly once. */
  public static final class Lease implements AutoCloseable {
    private final CollectionPlan plan;
    private final java.util.concurrent.atomic.AtomicBoolean closed =
        new java.util.concurrent.atomic.AtomicBoolean();

    private Lease(CollectionPlan plan) {
      this.plan = plan;
    }

    public CollectionPlan plan() {
      return plan;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        plan.stores.forEach(StoreHandle::release);
      }
    }
  }
}
