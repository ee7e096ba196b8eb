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
  public LabelValues getMergedLabels(String labelKey) {
    List<Optional<ColumnData>> columns = columns(labelKey);
    if (columns.stream().allMatch(Optional::isEmpty)) {
      return new LabelValues(LabelType.UTF8, List.of());
    }
    LabelType type = type(labelKey, columns);
    List<Object> values = new ArrayList<>();
    RowIndex rows = plan.rows();
    for (int s = 0; s < columns.size(); s++) {
      if (columns.get(s).isEmpty()) {
        continue;
      }
      ColumnData c = columns.get(s).get();
      for (long k = 0; k < rows.count(s); k++) {
        values.add(LabelValues.labelAt(c, rows.localRow(s, k), type));
      }
    }
    return new LabelValues(type, java.util.Collections.unmodifiableList(values));
  }

  /**
   * Per row {@code 1/count} of its label ({@code scaler/(count+scaler)} with a scaler); the
   * labels of several keys are joined with {@code "__"}.
   */
  public double[] getLabelWeights(List<String> obsKeys, Double scaler) {
    List<String> labels = joinedLabels(obsKeys);
    Map<String, Integer> counts = count(labels);
    double[] out = new double[labels.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = weight(counts.get(labels.get(i)), scaler);
    }
    return out;
  }

  /** The weight of each distinct (joined) label, in order of first appearance. */
  public Map<String, Double> getLabelWeightCategories(List<String> obsKeys, Double scaler) {
    Map<String, Integer> counts = count(joinedLabels(obsKeys));
    Map<String, Double> out = new LinkedHashMap<>();
    counts.forEach((k, v) -> out.put(k, weight(v, scaler)));
    return out;
  }

  private static double weight(int count, Double scaler) {
    return scaler == null ? 1.0 / count : scaler / (count + scaler);
  }

  private static Map<String, Integer> count(List<String> labels) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    labels.forEach(l -> counts.merge(l, 1, Integer::sum));
    return counts;
  }

  /** Labels as numpy's astype(str) writes them, zipped over keys (shortest wins) with "__". */
  private List<String> joinedLabels(List<String> obsKeys) {
    if (obsKeys.isEmpty()) {
      throw new io.annflight.schema.RequestException("get_label_weights needs obs_keys");
    }
    List<List<String>> perKey = new ArrayList<>();
    for (String key : obsKeys) {
      if (columns(key).stream().allMatch(Optional::isEmpty)) {
        throw new io.annflight.schema.RequestException(
            "get_label_weights: no store has obs key \"" + key + "\"");
      }
      perKey.add(getMergedLabels(key).values().stream().map(LabelValues::toPythonString)
          .toList());
    }
    int n = perKey.stream().mapToInt(List::size).min().orElse(0);
    List<String> out = new ArrayList<>(n);
    Map<String, String> interned = new HashMap<>();
    for (int i = 0; i < n; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < perKey.size(); k++) {
        if (k > 0) {
          b.append("__");
        }
        b.append(perKey.get(k).get(i));
      }
      String label = b.toString();
      out.add(interned.computeIfAbsent(label, l -> l));
    }
    return out;
  }

  private List<Optional<ColumnData>> columns(String key) {
    return plan.storeHandles().stream().map(s -> s.obsColumn(key)).toList();
  }

  private static LabelType type(String key, List<Optional<ColumnData>> columns) {
    return LabelValues.commonType(key,
        columns.stream().flatMap(Optional::stream).map(LabelValues::typeOf).toList());
  }

}
