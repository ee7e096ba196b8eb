package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * MappedCollection's {@code get_merged_labels(key)}: the labels of every selected row of the
 * stores having the key, in collection order (stores lacking it are skipped, not padded). Handed
 * out a chunk of rows at a time, each store's column read from the obs cache as the walk reaches
 * it, so memory does not grow with the rows.
 */
public final class MergedLabels {
  private final CollectionPlan plan;
  private final String key;
  private final LabelType type;
  private final List<Integer> stores = new ArrayList<>();
  private final List<PlainLabels> labels = new ArrayList<>();
  private final long size;

  /** Receives {@code count} rows of one store: their local rows and how to read them. */
  @FunctionalInterface
  public interface Chunk {
    void accept(PlainLabels.Reader labels, int[] localRows, int count);
  }

  MergedLabels(CollectionPlan plan, String key) {
    this.plan = plan;
    this.key = key;
    List<ColumnData> columns = new ArrayList<>();
    List<StoreHandle> handles = plan.storeHandles();
    for (int s = 0; s < handles.size(); s++) {
      Optional<ColumnData> c = handles.get(s).obsColumn(key);
      if (c.isPresent()) {
        stores.add(s);
        columns.add(c.get());
      }
    }
    this.type = columns.isEmpty() ? LabelType.UTF8
        : LabelValues.commonType(key, columns.stream().map(LabelValues::typeOf).toList());
    long n = 0;
    for (int i = 0; i < stores.size(); i++) {
      labels.add(PlainLabels.of(columns.get(i), type));
      n += plan.rows().count(stores.get(i));
    }
    this.size = n;
  }

  /** The labels' type on the wire (UTF-8 when no store has the key). */
  public LabelType type() {
    return type;
  }

  public long size() {
    return size;
  }

  /** Walks the labels in order, at most {@code maxRows} rows a chunk. */
  public void forEachChunk(int maxRows, Chunk sink) {
    RowIndex rows = plan.rows();
    int[] locals = new int[maxRows];
    for (int i = 0; i < stores.size(); i++) {
      int s = stores.get(i);
      long count = rows.count(s);
      if (count == 0) {
        continue;
      }
      PlainLabels.Reader reader = labels.get(i)
          .reader(plan.storeHandles().get(s).obsColumn(key).orElseThrow());
      for (long k = 0; k < count; ) {
        int n = (int) Math.min(maxRows, count - k);
        for (int j = 0; j < n; j++) {
          locals[j] = rows.localRow(s, k + j);
        }
        sink.accept(reader, locals, n);
        k += n;
      }
    }
  }

  /** Every label boxed in one list (tests and small collections). */
  public LabelValues values() {
    List<Object> out = new ArrayList<>();
    forEachChunk(1 << 16, (reader, locals, n) -> {
      for (int j = 0; j < n; j++) {
        int slot = reader.slot(locals[j]);
        out.add(slot < 0 ? null : switch (type) {
          case UTF8 -> new String(reader.utf8At(slot), java.nio.charset.StandardCharsets.UTF_8);
          case INT64 -> reader.longAt(slot);
          case FLOAT64 -> reader.doubleAt(slot);
          case BOOL -> reader.boolAt(slot);
        });
      }
    });
    return new LabelValues(type, java.util.Collections.unmodifiableList(out));
  }
}
