package io.annflight.arrow;

import io.annflight.collection.MatrixColumnPlan;
import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.util.Optional;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/**
 * A matrix column (layers key or obsm key): reads each store's rows of the batch with one call,
 * then copies them into the list's child buffer at their output positions, scattering sparse
 * entries and joined columns through the plan's precomputed variable map. Same-type dense rows
 * without a join are copied as bytes.
 */
final class MatrixFiller implements ColumnFiller {
  private final MatrixColumnPlan plan;
  private final FieldVector vector;
  private final ValueWriter[] writers;
  private final ElementType outType;
  private final Integer width;
  /** Rows and values the fixed-size list's buffers hold now (0: not allocated). */
  private int allocatedRows;
  private int allocatedValues;

  MatrixFiller(MatrixColumnPlan plan, FieldVector vector) {
    this.plan = plan;
    this.vector = vector;
    this.outType = plan.outType();
    this.width = plan.column().width();
    this.writers = new ValueWriter[plan.readers().size()];
    for (int s = 0; s < writers.length; s++) {
      Optional<MatrixReader> r = plan.readers().get(s);
      if (r.isPresent()) {
        writers[s] = ValueWriter.of(r.get().elementType(), outType);
      }
    }
  }

  @Override
  public void fill(BatchRows rows) {
    int n = rows.size;
    long[] rowStart = new long[n];
    int[] rowWidth = new int[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      int s = rows.storeOfRow[i];
      rowStart[i] = total;
      rowWidth[i] = plan.readers().get(s).isPresent() ? plan.rowWidths()[s] : 0;
      total += width != null ? width : rowWidth[i];
    }
    BaseFixedWidthVector child = allocate(n, Math.toIntExact(total), rowStart, rowWidth,
        !overwritesEveryValue(rows));
    ArrowBuf data = child.getDataBuffer();
    for (int s = 0; s < rows.positions.length; s++) {
      long[] locals = rows.localRows[s];
      Optional<MatrixReader> reader = plan.readers().get(s);
      if (locals.length == 0 || reader.isEmpty()) {
        continue;
      }
      RowBlock block = BatchRows.isRun(locals)
          ? reader.get().readRows(locals[0], locals[locals.length - 1] + 1)
          : reader.get().readRows(locals);
      int[] positions = rows.positions[s];
      int[] map = plan.scatterMaps()[s];
      ValueWriter w = writers[s];
      if (block instanceof RowBlock.Dense d) {
        copyDense(d, positions, rowStart, map, w, data);
      } else {
        copySparse((RowBlock.Sparse) block, positions, rowStart, map, w, data,
            plan.rowWidths()[s]);
      }
    }
  }

  /**
   * Whether the batch's copies write every output value: all its rows come from dense stores
   * without a join. Only then may the reused child buffer skip zeroing.
   */
  private boolean overwritesEveryValue(BatchRows rows) {
    for (int s = 0; s < rows.positions.length; s++) {
      if (rows.positions[s].length == 0) {
        continue;
      }
      Optional<MatrixReader> r = plan.readers().get(s);
      if (r.isEmpty() || r.get().layout() != MatrixLayout.DENSE || plan.scatterMaps()[s] != null) {
        return false;
      }
    }
    return true;
  }

  /**
   * Prepares list and child for the batch: list nulls set, child values valid and zeroed
   * (unless {@code zero} is false because every value will be written). Fixed-size lists keep
   * their buffers from batch to batch while they are large enough: the previous batch was
   * copied out by putNext, and fresh multi-MiB buffers would cost page faults every batch.
   */
  private BaseFixedWidthVector allocate(int n, int total, long[] rowStart, int[] rowWidth,
      boolean zero) {
    BaseFixedWidthVector child;
    if (vector instanceof FixedSizeListVector fsl) {
      child = (BaseFixedWidthVector) fsl.getDataVector();
      if (n > allocatedRows || total > allocatedValues || fsl.getValidityBuffer().capacity() == 0) {
        fsl.clear();
        fsl.setInitialCapacity(n);
        fsl.allocateNew();
        child.allocateNew(Math.max(total, 1));
        allocatedRows = n;
        allocatedValues = Math.max(total, 1);
      }
      for (int i = 0; i < n; i++) {
        BitVectorHelper.setValidityBit(fsl.getValidityBuffer(), i, rowWidth[i] > 0 ? 1 : 0);
      }
      if (zero) {
        zeroValues(child, total);
      }
      child.getValidityBuffer().setOne(0, (total + 7) / 8);
      child.setValueCount(total);
      fsl.setValueCount(n);
      return child;
    } else {
      ListVector list = (ListVector) vector;
      list.clear();
      child = (BaseFixedWidthVector) list.getDataVector();
      list.setInitialCapacity(n);
      list.allocateNew();
      child.allocateNew(Math.max(total, 1));
      ArrowBuf offsets = list.getOffsetBuffer();
      offsets.setInt(0, 0);
      for (int i = 0; i < n; i++) {
        BitVectorHelper.setValidityBit(list.getValidityBuffer(), i, rowWidth[i] > 0 ? 1 : 0);
        offsets.setInt((long) (i + 1) * ListVector.OFFSET_WIDTH,
            (int) (rowStart[i] + rowWidth[i]));
      }
      list.setLastSet(n - 1);
      list.setValueCount(n);
    }
    zeroValues(child, total);
    child.getValidityBuffer().setOne(0, (total + 7) / 8);
    child.setValueCount(total);
    return child;
  }

  private void zeroValues(BaseFixedWidthVector child, int total) {
    long dataBytes = outType == ElementType.BOOL ? (total + 7) / 8
        : (long) total * outType.byteWidth();
    child.getDataBuffer().setZero(0, dataBytes);
  }

  private void copyDense(RowBlock.Dense d, int[] positions, long[] rowStart, int[] map,
      ValueWriter w, ArrowBuf data) {
    int cols = d.nCols();
    TypedBuffer values = d.values();
    boolean bulk = map == null && values.type() == outType && RawCopy.applies(values);
    for (int k = 0; k < positions.length; k++) {
      long base = rowStart[positions[k]];
      int src = k * cols;
      if (bulk) {
        // Rows at consecutive output positions (a range read) are copied as one run.
        int run = 1;
        while (k + run < positions.length && positions[k + run] == positions[k] + run
            && rowStart[positions[k + run]] == base + (long) run * cols) {
          run++;
        }
        RawCopy.copy(values, src, data, base, run * cols);
        k += run - 1;
      } else if (map == null) {
        for (int c = 0; c < cols; c++) {
          w.write(values, src + c, data, base + c);
        }
      } else {
        for (int c = 0; c < cols; c++) {
          int j = map[c];
          if (j >= 0) {
            w.write(values, src + c, data, base + j);
          }
        }
      }
    }
  }

  private void copySparse(RowBlock.Sparse sp, int[] positions, long[] rowStart,
      int[] map, ValueWriter w, ArrowBuf data, int rowWidth) {
    int[] offsets = sp.rowOffsets();
    int[] columns = sp.columns();
    TypedBuffer values = sp.values();
    boolean raw = values.type() == outType && RawCopy.applies(values);
    for (int k = 0; k < positions.length; k++) {
      long base = rowStart[positions[k]];
      int end = offsets[k + 1];
      if (raw) {
        RawCopy.scatter(values, columns, offsets[k], end, map, data, base, rowWidth);
      } else if (map == null) {
        for (int e = offsets[k]; e < end; e++) {
          w.write(values, e, data, base + columns[e]);
        }
      } else {
        for (int e = offsets[k]; e < end; e++) {
          int j = map[columns[e]];
          if (j >= 0) {
            w.write(values, e, data, base + j);
          }
        }
      }
    }
  }
}
