package io.annflight.arrow;

import io.annflight.collection.MatrixColumnPlan;
import io.annflight.schema.ElementType;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;

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
    int whole = wholeBatchStore(rows);
    RowBlock.Dense run = null;
    if (whole >= 0) {
      long[] locals = rows.localRows[whole];
      MatrixReader reader = plan.readers().get(whole).get();
      if (loadDirect(rows.size, reader, locals)) {
        return;
      }
      run = (RowBlock.Dense) reader.readRows(locals[0], locals[locals.length - 1] + 1);
    }
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
      int[] positions = rows.positions[s];
      int[] map = plan.scatterMaps()[s];
      if (s != whole && readsDirect(s, reader.get(), map)
          && reader.get().readLittleEndianRowsTo(locals, byteOffsets(positions, rowStart),
              data.nioBuffer(0, (int) data.capacity()))) {
        continue;
      }
      RowBlock block = s == whole ? run
          : BatchRows.isRun(locals)
              ? reader.get().readRows(locals[0], locals[locals.length - 1] + 1)
              : reader.get().readRows(locals);
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
   * The store whose rows make up the whole batch as one run, in order, dense and of the output
   * type without a join (byte order is the reader's to check); -1 otherwise.
   */
  private int wholeBatchStore(BatchRows rows) {
    if (width == null) {
      return -1;
    }
    for (int s = 0; s < rows.positions.length; s++) {
      int[] positions = rows.positions[s];
      if (positions.length == 0) {
        continue;
      }
      Optional<MatrixReader> r = plan.readers().get(s);
      if (positions.length != rows.size || r.isEmpty()
          || r.get().layout() != MatrixLayout.DENSE || plan.scatterMaps()[s] != null
          || plan.rowWidths()[s] != width || r.get().elementType() != outType
          || !BatchRows.isRun(rows.localRows[s])) {
        return -1;
      }
      for (int k = 0; k < positions.length; k++) {
        if (positions[k] != k) {
          return -1;
        }
      }
      return s;
    }
    return -1;
  }

  /**
   * Reads the run straight into a fresh child data buffer when the reader can (rows stored
   * exactly as sent, read with positional file reads): one copy, by the kernel. False, with
   * nothing loaded, otherwise; the run is then copied like any other rows.
   */
  private boolean loadDirect(int n, MatrixReader reader, long[] run) {
    if (outType == ElementType.BOOL) {
      return false; // Arrow packs bools as bits; stores keep a byte each
    }
    int total = Math.toIntExact((long) n * width);
    long bytes = dataBytes(total);
    FixedSizeListVector fsl = (FixedSizeListVector) vector;
    try (ArrowBuf values = fsl.getAllocator().buffer(Math.max(1, bytes))) {
      long[] offsets = new long[n];
      for (int k = 0; k < n; k++) {
        offsets[k] = (long) k * width * outType.byteWidth();
      }
      if (!reader.readLittleEndianRowsTo(run, offsets, values.nioBuffer(0, (int) bytes))) {
        return false;
      }
      int[] rowWidth = new int[n];
      Arrays.fill(rowWidth, width);
      loadFixedSizeList(fsl, n, rowWidth, total, values);
    }
    return true;
  }

  /** Whether store s's rows can be read as stored straight to their output places. */
  private boolean readsDirect(int s, MatrixReader reader, int[] map) {
    return map == null && reader.layout() == MatrixLayout.DENSE
        && reader.elementType() == outType && outType != ElementType.BOOL
        && plan.rowWidths()[s] == reader.nCols();
  }

  private long[] byteOffsets(int[] positions, long[] rowStart) {
    long[] out = new long[positions.length];
    for (int k = 0; k < positions.length; k++) {
      out[k] = rowStart[positions[k]] * outType.byteWidth();
    }
    return out;
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
   * (unless {@code zero} is false because every value will be written). Every batch gets
   * fresh buffers: the previous batch's buffers may still be on their way to the client (the
   * stream sends without copying), and the allocator's own zeroing is skipped when nothing
   * needs it.
   */
  private BaseFixedWidthVector allocate(int n, int total, long[] rowStart, int[] rowWidth,
      boolean zero) {
    BaseFixedWidthVector child;
    if (vector instanceof FixedSizeListVector fsl) {
      long dataBytes = dataBytes(total);
      try (ArrowBuf values = fsl.getAllocator().buffer(Math.max(1, dataBytes))) {
        if (zero) {
          values.setZero(0, dataBytes);
        }
        return loadFixedSizeList(fsl, n, rowWidth, total, values);
      }
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

  /**
   * Loads a batch into the fixed-size list: rows of width 0 (stores without the matrix) null,
   * and {@code values} (retained, not taken over) as the child's data.
   */
  private static BaseFixedWidthVector loadFixedSizeList(FixedSizeListVector fsl, int n,
      int[] rowWidth, int total, ArrowBuf values) {
    BaseFixedWidthVector child = (BaseFixedWidthVector) fsl.getDataVector();
    BufferAllocator allocator = fsl.getAllocator();
    fsl.clear();
    int nulls = 0;
    try (ArrowBuf validity = allocator.buffer(Math.max(1, (n + 7) / 8))) {
      validity.setZero(0, validity.capacity());
      for (int i = 0; i < n; i++) {
        if (rowWidth[i] > 0) {
          BitVectorHelper.setBit(validity, i);
        } else {
          nulls++;
        }
      }
      fsl.loadFieldBuffers(new ArrowFieldNode(n, nulls), List.of(validity));
    }
    // Child values are never null: a null count of 0 makes Arrow build an all-set bitmap.
    child.loadFieldBuffers(new ArrowFieldNode(total, 0), List.of(allocator.getEmpty(), values));
    return child;
  }

  private void zeroValues(BaseFixedWidthVector child, int total) {
    child.getDataBuffer().setZero(0, dataBytes(total));
  }

  private long dataBytes(int total) {
    return outType == ElementType.BOOL ? (total + 7) / 8 : (long) total * outType.byteWidth();
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
    if (values.type() == outType && RawCopy.applies(values)) {
      RawCopy.scatterRows(values, columns, offsets, positions, rowStart, map, data, rowWidth);
      return;
    }
    for (int k = 0; k < positions.length; k++) {
      long base = rowStart[positions[k]];
      int end = offsets[k + 1];
      if (map == null) {
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
