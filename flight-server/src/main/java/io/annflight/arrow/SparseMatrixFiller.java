package io.annflight.arrow;

import io.annflight.collection.MatrixColumnPlan;
import io.annflight.collection.SparseProjection;
import io.annflight.schema.ElementType;
import io.annflight.schema.OutputColumn;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.SparseRowReads;
import io.annflight.store.TypedBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.NonNullableStructVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;

/**
 * A matrix column in {@code matrix_format: "csr"}: each row is the list of its non-zero entries
 * {@code (index, value)} in ascending output index. CSR and CSC rows are copied as their stored
 * entries, first projected through the plan's variable map where there is one
 * ({@link SparseProjection}: mapped, dropped where it says -1, sorted); dense rows are scanned
 * for non-zeros. Two passes: count each row's entries, then write them in place, so the
 * batch's buffers are allocated once at their exact size.
 */
final class SparseMatrixFiller implements ColumnFiller {
  private final MatrixColumnPlan plan;
  private final ListVector list;
  private final ValueWriter[] writers;
  /** Per store: whether its variable map keeps column order (then rows need no sorting). */
  private final boolean[] ordered;

  SparseMatrixFiller(MatrixColumnPlan plan, FieldVector vector) {
    this.plan = plan;
    this.list = (ListVector) vector;
    int n = plan.readers().size();
    this.writers = new ValueWriter[n];
    this.ordered = new boolean[n];
    for (int s = 0; s < n; s++) {
      Optional<MatrixReader> r = plan.readers().get(s);
      if (r.isPresent()) {
        writers[s] = ValueWriter.of(r.get().elementType(), plan.outType());
      }
      ordered[s] = MatrixColumnPlan.keepsOrder(plan.scatterMaps()[s]);
    }
  }

  @Override
  public void fill(BatchRows rows) {
    int n = rows.size;
    RowBlock[] blocks = new RowBlock[rows.positions.length];
    // Per store, the map still to apply: null once a sparse block is projected.
    int[][] maps = plan.scatterMaps().clone();
    int[] counts = new int[n];
    boolean[] present = new boolean[n];
    // Per store, its rows when they are read as stored straight into the batch's buffers.
    SparseRowReads[] stored = new SparseRowReads[blocks.length];
    for (int s = 0; s < blocks.length; s++) {
      long[] locals = rows.localRows[s];
      Optional<MatrixReader> reader = plan.readers().get(s);
      if (locals.length == 0 || reader.isEmpty()) {
        continue;
      }
      int[] positions = rows.positions[s];
      if (maps[s] == null && plan.outType() != ElementType.BOOL
          && reader.get().elementType() == plan.outType()) {
        stored[s] = reader.get().sparseRows(locals).orElse(null);
        if (stored[s] != null) {
          int[] lengths = stored[s].lengths();
          for (int k = 0; k < positions.length; k++) {
            present[positions[k]] = true;
            counts[positions[k]] = lengths[k];
          }
          continue;
        }
      }
      RowBlock block = BatchRows.isRun(locals)
          ? reader.get().readRows(locals[0], locals[locals.length - 1] + 1)
          : reader.get().readRows(locals);
      if (block instanceof RowBlock.Sparse sp && maps[s] != null) {
        block = SparseProjection.project(sp, maps[s], ordered[s], plan.rowWidths()[s]);
        maps[s] = null;
      }
      blocks[s] = block;
      for (int k = 0; k < positions.length; k++) {
        present[positions[k]] = true;
        counts[positions[k]] = count(block, k, maps[s]);
      }
    }
    int[] offsets = new int[n + 1];
    for (int i = 0; i < n; i++) {
      offsets[i + 1] = Math.addExact(offsets[i], counts[i]);
    }
    int total = offsets[n];
    Vectors v = allocate(n, total, offsets, present);
    for (int s = 0; s < blocks.length; s++) {
      if (stored[s] != null) {
        readStored(stored[s], rows.positions[s], offsets, v, total);
        continue;
      }
      if (blocks[s] == null) {
        continue;
      }
      int[] positions = rows.positions[s];
      if (copiesAsStored(blocks[s], maps[s], positions)) {
        copyBlock((RowBlock.Sparse) blocks[s], v, offsets[positions[0]]);
        continue;
      }
      if (rowsCopyAsStored(blocks[s], maps[s])) {
        // Rows at scattered positions (a shuffled batch): each row's entries in two copies.
        RowBlock.Sparse sp = (RowBlock.Sparse) blocks[s];
        for (int k = 0; k < positions.length; k++) {
          copyRow(sp, k, v, offsets[positions[k]]);
        }
        continue;
      }
      for (int k = 0; k < positions.length; k++) {
        write(blocks[s], k, maps[s], ordered[s], writers[s], v,
            offsets[positions[k]]);
      }
    }
  }

  /**
   * A store's rows read as stored into their places in the batch; the rows whose stored columns
   * do not ascend are then sorted there.
   */
  private void readStored(SparseRowReads reads, int[] positions, int[] offsets, Vectors v,
      int total) {
    int[] at = new int[positions.length];
    for (int k = 0; k < positions.length; k++) {
      at[k] = offsets[positions[k]];
    }
    int width = plan.outType().byteWidth();
    int[] unsorted = reads.readTo(at, v.index.nioBuffer(0, Math.multiplyExact(total, 4)),
        v.values.nioBuffer(0, Math.multiplyExact(total, width)));
    int[] lengths = reads.lengths();
    for (int k : unsorted) {
      sortInPlace(v, at[k], lengths[k], width);
    }
  }

  /** Sorts the {@code n} entries from entry {@code from} by index, keeping each value with it. */
  private static void sortInPlace(Vectors v, int from, int n, int width) {
    long[] keyed = new long[n];
    for (int i = 0; i < n; i++) {
      keyed[i] = ((long) v.index.getInt((long) (from + i) * 4) << 32) | i;
    }
    Arrays.sort(keyed);
    byte[] values = new byte[n * width];
    v.values.getBytes((long) from * width, values, 0, values.length);
    for (int i = 0; i < n; i++) {
      int was = (int) keyed[i];
      v.index.setInt((long) (from + i) * 4, (int) (keyed[i] >> 32));
      v.values.setBytes((long) (from + i) * width, values, was * width, width);
    }
  }

  /**
   * Whether a sparse block goes to the batch as it is: no variable map (left), values already
   * of the output type, its rows at consecutive output positions and their columns ascending
   * (scipy writes them so; a projection sorts them). Then its entries are two bulk copies.
   */
  private boolean copiesAsStored(RowBlock block, int[] map, int[] positions) {
    return block instanceof RowBlock.Sparse sp && map == null
        && plan.outType() != ElementType.BOOL && bulkWritable(sp, positions)
        && columnsAscend(sp);
  }

  /** Whether each row of a sparse block goes to the batch as stored, wherever it lands. */
  private boolean rowsCopyAsStored(RowBlock block, int[] map) {
    return block instanceof RowBlock.Sparse sp && map == null
        && plan.outType() != ElementType.BOOL && sp.values().type() == plan.outType()
        && RawCopy.applies(sp.values()) && columnsAscend(sp);
  }

  private static void copyRow(RowBlock.Sparse sp, int k, Vectors v, int at) {
    int from = sp.rowOffsets()[k];
    int nnz = sp.rowOffsets()[k + 1] - from;
    if (nnz == 0) {
      return;
    }
    v.index.nioBuffer((long) at * 4, nnz * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asIntBuffer().put(sp.columns(), from, nnz);
    RawCopy.copy(sp.values(), from, v.values, at, nnz);
  }

  private static boolean consecutive(int[] positions) {
    for (int k = 1; k < positions.length; k++) {
      if (positions[k] != positions[0] + k) {
        return false;
      }
    }
    return true;
  }

  /**
   * What the bulk path needs: values of the output type as raw bits, the block's rows at
   * consecutive output positions.
   */
  private boolean bulkWritable(RowBlock.Sparse sp, int[] positions) {
    return sp.values().type() == plan.outType() && RawCopy.applies(sp.values())
        && consecutive(positions);
  }

  /** Whether each row's stored columns ascend (scipy writes them so). */
  private static boolean columnsAscend(RowBlock.Sparse sp) {
    int[] cols = sp.columns();
    int[] off = sp.rowOffsets();
    for (int r = 0; r < sp.nRows(); r++) {
      for (int e = off[r] + 1; e < off[r + 1]; e++) {
        if (cols[e] <= cols[e - 1]) {
          return false;
        }
      }
    }
    return true;
  }

  private static void copyBlock(RowBlock.Sparse sp, Vectors v, int at) {
    int nnz = sp.nnz();
    if (nnz == 0) {
      return;
    }
    v.index.nioBuffer((long) at * 4, nnz * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asIntBuffer().put(sp.columns(), 0, nnz);
    RawCopy.copy(sp.values(), 0, v.values, at, nnz);
  }

  /** Entries row k of the block contributes after mapping. */
  private static int count(RowBlock block, int k, int[] map) {
    if (block instanceof RowBlock.Sparse sp) {
      int from = sp.rowOffsets()[k];
      int to = sp.rowOffsets()[k + 1];
      if (map == null) {
        return to - from;
      }
      int c = 0;
      for (int e = from; e < to; e++) {
        if (map[sp.columns()[e]] >= 0) {
          c++;
        }
      }
      return c;
    }
    RowBlock.Dense d = (RowBlock.Dense) block;
    TypedBuffer values = d.values();
    int cols = d.nCols();
    int base = k * cols;
    int c = 0;
    for (int j = 0; j < cols; j++) {
      if ((map == null || map[j] >= 0) && values.getDouble(base + j) != 0) {
        c++;
      }
    }
    return c;
  }

  /** Writes row k's entries from {@code at} on, in ascending output index. */
  private static void write(RowBlock block, int k, int[] map, boolean ordered, ValueWriter w,
      Vectors v, int at) {
    int start = at;
    TypedBuffer values;
    if (block instanceof RowBlock.Sparse sp) {
      values = sp.values();
      for (int e = sp.rowOffsets()[k]; e < sp.rowOffsets()[k + 1]; e++) {
        int j = map == null ? sp.columns()[e] : map[sp.columns()[e]];
        if (j >= 0) {
          v.index.setInt((long) at * 4, j);
          w.write(values, e, v.values, at);
          at++;
        }
      }
    } else {
      RowBlock.Dense d = (RowBlock.Dense) block;
      values = d.values();
      int cols = d.nCols();
      int base = k * cols;
      for (int c = 0; c < cols; c++) {
        int j = map == null ? c : map[c];
        if (j >= 0 && values.getDouble(base + c) != 0) {
          v.index.setInt((long) at * 4, j);
          w.write(values, base + c, v.values, at);
          at++;
        }
      }
    }
    if (!(ordered && block instanceof RowBlock.Dense) && !ascending(v.index, start, at)) {
      sortEntries(block, k, map, w, v, start, at, values);
    }
  }

  private static boolean ascending(ArrowBuf index, int from, int to) {
    for (int i = from + 1; i < to; i++) {
      if (index.getInt((long) i * 4) <= index.getInt((long) (i - 1) * 4)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Rewrites a row whose entries came out of order (a join that reorders variables, or a
   * store whose rows keep unsorted column indices) in ascending output index.
   */
  private static void sortEntries(RowBlock block, int k, int[] map, ValueWriter w, Vectors v,
      int from, int to, TypedBuffer values) {
    long[] keyed = new long[to - from];
    int n = 0;
    if (block instanceof RowBlock.Sparse sp) {
      for (int e = sp.rowOffsets()[k]; e < sp.rowOffsets()[k + 1]; e++) {
        int j = map == null ? sp.columns()[e] : map[sp.columns()[e]];
        if (j >= 0) {
          keyed[n++] = ((long) j << 32) | e;
        }
      }
    } else {
      RowBlock.Dense d = (RowBlock.Dense) block;
      int base = k * d.nCols();
      for (int c = 0; c < d.nCols(); c++) {
        int j = map == null ? c : map[c];
        if (j >= 0 && values.getDouble(base + c) != 0) {
          keyed[n++] = ((long) j << 32) | (base + c);
        }
      }
    }
    Arrays.sort(keyed, 0, n);
    for (int i = 0; i < n; i++) {
      v.index.setInt((long) (from + i) * 4, (int) (keyed[i] >>> 32));
      w.write(values, (int) keyed[i], v.values, from + i);
    }
  }

  /** The batch's list, its struct child's index and value buffers. */
  private record Vectors(ArrowBuf index, ArrowBuf values) {}

  /**
   * Fresh buffers for the batch (the previous batch's may still be on their way to the
   * client): list offsets and validity (null rows for stores without the element), the struct's
   * children sized exactly and not zeroed, since every entry is written.
   */
  private Vectors allocate(int n, int total, int[] offsets, boolean[] present) {
    list.clear();
    list.setInitialCapacity(n, 1);
    list.allocateNew();
    NonNullableStructVector struct = (NonNullableStructVector) list.getDataVector();
    IntVector index = (IntVector) struct.getChild(OutputColumn.Matrix.INDEX);
    BaseFixedWidthVector value = (BaseFixedWidthVector) struct.getChild(OutputColumn.Matrix.VALUE);
    ArrowBuf listOffsets = list.getOffsetBuffer();
    for (int i = 0; i <= n; i++) {
      listOffsets.setInt((long) i * ListVector.OFFSET_WIDTH, offsets[i]);
    }
    for (int i = 0; i < n; i++) {
      BitVectorHelper.setValidityBit(list.getValidityBuffer(), i, present[i] ? 1 : 0);
    }
    list.setLastSet(n - 1);
    BufferAllocator allocator = list.getAllocator();
    long valueBytes = plan.outType() == ElementType.BOOL ? (total + 7) / 8
        : (long) total * plan.outType().byteWidth();
    try (ArrowBuf indexData = allocator.buffer(Math.max(1, (long) total * 4));
        ArrowBuf valueData = allocator.buffer(Math.max(1, valueBytes))) {
      if (plan.outType() == ElementType.BOOL) {
        valueData.setZero(0, valueData.capacity());
      }
      // Entries are never null: a null count of 0 makes Arrow build all-set bitmaps.
      ArrowFieldNode entries = new ArrowFieldNode(total, 0);
      if (struct instanceof StructVector nullable) {
        nullable.loadFieldBuffers(entries, List.of(allocator.getEmpty()));
      }
      index.loadFieldBuffers(entries, List.of(allocator.getEmpty(), indexData));
      value.loadFieldBuffers(entries, List.of(allocator.getEmpty(), valueData));
    }
    struct.setValueCount(total);
    list.setValueCount(n);
    return new Vectors(index.getDataBuffer(), value.getDataBuffer());
  }
}
