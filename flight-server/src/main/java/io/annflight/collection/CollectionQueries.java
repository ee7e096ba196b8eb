package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** MappedCollection's query methods over a plan. */
public final class CollectionQueries {
  private final CollectionPlan plan;

  CollectionQueries(CollectionPlan plan) {
    this.plan = plan;
  }

  /** {@code [n_obs, n_vars]}; n_vars is -1 when join is none and the stores' widths differ. */
  public long[] shape() {
    Integer width = plan.varJoin().width();
    return new long[] {plan.nObs(), width == null ? -1 : width};
  }

  /** Per store {@code [n_obs after obs_filter, n_vars]}. */
  public List<long[]> originalShapes() {
    List<long[]> out = new ArrayList<>();
    List<StoreHandle> stores = plan.storeHandles();
    for (int s = 0; s < stores.size(); s++) {
      out.add(new long[] {plan.rows().count(s), stores.get(s).varIndex().size()});
    }
    return out;
  }

  /** The joint variables; null when join is none and the stores' variables differ. */
  public List<String> varJoint() {
    return plan.varJoint();
  }

  /** Whether every store's variables are sorted (non-strictly) in the given direction. */
  public boolean checkVarsSorted(boolean ascending) {
    for (StoreHandle s : plan.storeHandles()) {
      List<String> v = s.varIndex();
      for (int i = 1; i < v.size(); i++) {
        int cmp = PythonOrder.compareStrings(v.get(i - 1), v.get(i));
        if (ascending ? cmp > 0 : cmp < 0) {
          return false;
        }
      }
    }
    return true;
  }

  /** Positions of the stores whose variables differ from {@code vars} (names and order). */
  public List<Integer> checkVarsNonAligned(List<String> vars) {
    List<Integer> out = new ArrayList<>();
    List<StoreHandle> stores = plan.storeHandles();
    for (int s = 0; s < stores.size(); s++) {
      if (!stores.get(s).varIndex().equals(vars)) {
        out.add(s);
      }
    }
    return out;
  }

  /** Sorted union of the categories (or distinct values) of a key over the stores having it. */
  public List<Object> getMergedCategories(String labelKey) {
    List<Optional<ColumnData>> columns = columns(labelKey);
    if (columns.stream().allMatch(Optional::isEmpty)) {
      return List.of();
    }
    return CollectionEngine.mergedCategories(columns, type(labelKey, columns));
  }

  /**
   * The labels of every selected row of the stores that have the key, in collection order. As
   * in MappedCollection, stores lacking the key are skipped (not padded with nulls).
   */
  public MergedLabels mergedLabels(String labelKey) {
    return new MergedLabels(plan, labelKey);
  }

  /** {@link #mergedLabels} boxed in one list (tests and small collections). */
  public LabelValues getMergedLabels(String labelKey) {
    return mergedLabels(labelKey).values();
  }

  /**
   * Per row {@code 1/count} of its label ({@code scaler/(count+scaler)} with a scaler); the
   * labels of several keys are joined with {@code "__"}. Counted when called; hand the weights
   * out with {@link LabelWeights#forEachWeight}.
   */
  public LabelWeights labelWeights(List<String> obsKeys, Double scaler) {
    return new LabelWeights(plan, obsKeys, scaler);
  }

  /** Every row's weight in one array (see {@link #labelWeights}). */
  public double[] getLabelWeights(List<String> obsKeys, Double scaler) {
    return labelWeights(obsKeys, scaler).all();
  }

  /** The weight of each distinct (joined) label, in order of first appearance. */
  public Map<String, Double> getLabelWeightCategories(List<String> obsKeys, Double scaler) {
    return labelWeights(obsKeys, scaler).categories();
  }

  private List<Optional<ColumnData>> columns(String key) {
    return plan.storeHandles().stream().map(s -> s.obsColumn(key)).toList();
  }

  private static LabelType type(String key, List<Optional<ColumnData>> columns) {
    return LabelValues.commonType(key,
        columns.stream().flatMap(Optional::stream).map(LabelValues::typeOf).toList());
  }

}
