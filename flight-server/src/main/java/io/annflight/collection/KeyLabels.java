package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.schema.RequestException;
import io.annflight.store.ColumnData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The labels of one obs key over a plan's rows, as {@code get_merged_labels} lists them (stores
 * lacking the key skipped), each as a small integer: the id of its text as numpy's
 * {@code astype(str)} writes it ({@link LabelValues#toPythonString}), what label weights count.
 * Ids are read in order with a {@link Cursor}; a categorical's categories are mapped to ids once
 * per store, so a row costs an array lookup and nothing is kept per row.
 */
final class KeyLabels {
  private final CollectionPlan plan;
  private final String key;
  private final LabelType type;
  /** The stores having the key, in collection order. */
  private final int[] stores;
  /** Per store position in {@link #stores}: category -> id for a categorical, else null. */
  private final int[][] categoryIds;
  private final List<String> texts = new ArrayList<>();
  private final Map<String, Integer> ids = new HashMap<>();
  private final long size;
  /** The id of a missing label's text. */
  private final int missingId;

  KeyLabels(CollectionPlan plan, String key) {
    this.plan = plan;
    this.key = key;
    this.missingId = id(LabelValues.toPythonString(null));
    List<StoreHandle> handles = plan.storeHandles();
    List<Integer> having = new ArrayList<>();
    List<ColumnData> columns = new ArrayList<>();
    for (int s = 0; s < handles.size(); s++) {
      Optional<ColumnData> c = handles.get(s).obsColumn(key);
      if (c.isPresent()) {
        having.add(s);
        columns.add(c.get());
      }
    }
    if (having.isEmpty()) {
      throw new RequestException("get_label_weights: no store has obs key \"" + key + "\"");
    }
    this.type = LabelValues.commonType(key, columns.stream().map(LabelValues::typeOf).toList());
    this.stores = having.stream().mapToInt(Integer::intValue).toArray();
    this.categoryIds = new int[stores.length][];
    long n = 0;
    for (int i = 0; i < stores.length; i++) {
      n += plan.rows().count(stores[i]);
      if (columns.get(i) instanceof ColumnData.Categorical cat) {
        int[] m = new int[cat.categories().length()];
        for (int c = 0; c < m.length; c++) {
          m[c] = id(LabelValues.toPythonString(LabelValues.labelAt(cat.categories(), c, type)));
        }
        categoryIds[i] = m;
      }
    }
    this.size = n;
    if (java.util.Arrays.stream(categoryIds).anyMatch(m -> m == null)) {
      // Plain values' texts are only known once read: read them all now, so the ids are
      // complete before anyone combines them.
      Cursor all = cursor();
      int[] block = new int[BLOCK];
      for (long done = 0; done < n; done += block.length) {
        all.next(block, (int) Math.min(block.length, n - done));
      }
    }
  }

  /** Ids read at a time by the callers' loops. */
  static final int BLOCK = 1 << 16;

  private int id(String text) {
    Integer id = ids.get(text);
    if (id == null) {
      id = texts.size();
      ids.put(text, id);
      texts.add(text);
    }
    return id;
  }

  /** Labels of the key: rows of the stores having it. */
  long size() {
    return size;
  }

  /** Distinct label texts seen so far (all of a categorical's; plain values as read). */
  int distinct() {
    return texts.size();
  }

  String text(int id) {
    return texts.get(id);
  }

  Cursor cursor() {
    return new Cursor();
  }

  /** Reads the ids in order, a block at a time. */
  final class Cursor {
    private int store = 0;
    private long k = 0;
    private ColumnData column;

    /** Fills {@code out[0, count)} with the next ids; count must not pass the end. */
    void next(int[] out, int count) {
      int filled = 0;
      RowIndex rows = plan.rows();
      while (filled < count) {
        while (k >= rows.count(stores[store])) {
          store++;
          k = 0;
          column = null;
        }
        int s = stores[store];
        if (column == null) {
          column = plan.storeHandles().get(s).obsColumn(key).orElseThrow();
        }
        int[] byCategory = categoryIds[store];
        long end = Math.min(rows.count(s), k + (count - filled));
        for (; k < end; k++) {
          int local = rows.localRow(s, k);
          if (byCategory != null) {
            int c = ((ColumnData.Categorical) column).code(local);
            out[filled++] = c < 0 ? missingId : byCategory[c];
          } else {
            out[filled++] = id(LabelValues.toPythonString(
                LabelValues.labelAt(column, local, type)));
          }
        }
      }
    }
  }
}
