package io.annflight.arrow;

import io.annflight.collection.LabelColumnPlan;
import io.annflight.collection.LabelValues;
import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;

/**
 * An obs column: dictionary indices copied from the plan's precomputed codes, or plain labels.
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
      int[] codes = plan.encoding().codes(s);
      int[] positions = rows.positions[s];
      long[] locals = rows.localRows[s];
      for (int k = 0; k < positions.length; k++) {
        int code = codes == null ? -1 : codes[(int) locals[k]];
        if (code >= 0) {
          out.set(positions[k], code);
        } else {
          out.setNull(positions[k]);
        }
      }
    }
  }

  private void fillValues(BatchRows rows) {
    LabelType type = plan.column().valueType();
    if (vector instanceof VarCharVector v) {
      v.allocateNew(rows.size * 16L, rows.size);
    } else if (vector instanceof BigIntVector v) {
      v.allocateNew(rows.size);
    } else if (vector instanceof Float8Vector v) {
      v.allocateNew(rows.size);
    } else {
      ((BitVector) vector).allocateNew(rows.size);
    }
    for (int s = 0; s < rows.positions.length; s++) {
      Optional<ColumnData> column = plan.columns().get(s);
      int[] positions = rows.positions[s];
      long[] locals = rows.localRows[s];
      for (int k = 0; k < positions.length; k++) {
        Object v = column.isEmpty() ? null
            : LabelValues.labelAt(column.get(), (int) locals[k], type);
        set(positions[k], v);
      }
    }
  }

  private void set(int i, Object v) {
    if (v == null) {
      if (vector instanceof VarCharVector vc) {
        vc.setNull(i);
      } else if (vector instanceof BigIntVector b) {
        b.setNull(i);
      } else if (vector instanceof Float8Vector f) {
        f.setNull(i);
      } else {
        ((BitVector) vector).setNull(i);
      }
      return;
    }
    if (vector instanceof VarCharVector vc) {
      vc.setSafe(i, ((String) v).getBytes(StandardCharsets.UTF_8));
    } else if (vector instanceof BigIntVector b) {
      b.set(i, (Long) v);
    } else if (vector instanceof Float8Vector f) {
      f.set(i, (Double) v);
    } else {
      ((BitVector) vector).set(i, (Boolean) v ? 1 : 0);
    }
  }
}
