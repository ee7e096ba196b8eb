package io.annflight.arrow;

import io.annflight.collection.LabelColumnPlan;
import io.annflight.collection.PlainLabels;
import io.annflight.store.ColumnData;
import java.util.Optional;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;

/**
 * An obs column: dictionary indices looked up through the plan's encoding, or plain labels;
 * each store's column is fetched once per batch from the obs cache.
 */
final class LabelFiller implements ColumnFiller {
  private final LabelColumnPlan plan;
  private final FieldVector vector;

  LabelFiller(LabelColumnPlan plan, FieldVector vector) {
    this.plan = plan;
    this.vector = vector;
  }

  @Override
  public void fill(BatchRows rows) {
    vector.clear();
    if (plan.encoded()) {
      fillCodes(rows, (IntVector) vector);
    } else {
      fillValues(rows);
    }
    vector.setValueCount(rows.size);
  }

  private void fillCodes(BatchRows rows, IntVector out) {
    out.allocateNew(rows.size);
    for (int s = 0; s < rows.positions.length; s++) {
      int[] positions = rows.positions[s];
      if (positions.length == 0) {
        continue;
      }
      // The store's column once per batch (from the obs cache), then a lookup a row.
      ColumnData column = plan.column(s).orElse(null);
      long[] locals = rows.localRows[s];
      for (int k = 0; k < positions.length; k++) {
        int code = column == null ? -1 : plan.encoding().code(s, column, (int) locals[k]);
        if (code >= 0) {
          out.set(positions[k], code);
        } else {
          out.setNull(positions[k]);
        }
      }
    }
  }

  private void fillValues(BatchRows rows) {
    int n = rows.size;
    // Variable-width vectors are written in row order: find each row's source first.
    PlainLabels.Reader[] readers = new PlainLabels.Reader[rows.positions.length];
    int[] store = new int[n];
    int[] slot = new int[n];
    java.util.Arrays.fill(slot, -1);
    for (int s = 0; s < rows.positions.length; s++) {
      Optional<PlainLabels> labels = plan.plain().get(s);
      int[] positions = rows.positions[s];
      if (labels.isEmpty() || positions.length == 0) {
        continue;
      }
      readers[s] = labels.get().reader(plan.column(s).orElseThrow());
      long[] locals = rows.localRows[s];
      for (int k = 0; k < positions.length; k++) {
        store[positions[k]] = s;
        slot[positions[k]] = readers[s].slot((int) locals[k]);
      }
    }
    if (vector instanceof VarCharVector v) {
      v.allocateNew(n * 16L, n);
      for (int i = 0; i < n; i++) {
        if (slot[i] < 0) {
          v.setNull(i);
        } else {
          v.setSafe(i, readers[store[i]].utf8At(slot[i]));
        }
      }
    } else if (vector instanceof BigIntVector v) {
      v.allocateNew(n);
      for (int i = 0; i < n; i++) {
        if (slot[i] >= 0) {
          v.set(i, readers[store[i]].longAt(slot[i]));
        }
      }
    } else if (vector instanceof Float8Vector v) {
      v.allocateNew(n);
      for (int i = 0; i < n; i++) {
        if (slot[i] >= 0) {
          v.set(i, readers[store[i]].doubleAt(slot[i]));
        }
      }
    } else {
      BitVector v = (BitVector) vector;
      v.allocateNew(n);
      for (int i = 0; i < n; i++) {
        if (slot[i] >= 0) {
          v.set(i, readers[store[i]].boolAt(slot[i]) ? 1 : 0);
        }
      }
    }
  }
}
