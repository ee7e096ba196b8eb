package io.annflight.arrow;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.LabelColumnPlan;
import io.annflight.collection.MatrixColumnPlan;
import io.annflight.collection.StoreHandle;
import io.annflight.sampling.EpochOrder;
import io.annflight.schema.RequestException;
import io.annflight.schema.RowSelection;
import io.annflight.store.StoreChangedException;
import io.annflight.store.StoreResourceException;
import io.annflight.store.source.MappedAccessFaults;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;

/**
 * Streams the selected rows of a plan as record batches into one reused
 * {@link VectorSchemaRoot}: each {@link #next()} fills the root with the next batch. Not
 * thread-safe (one per stream); the plan behind it is shared.
 */
public final class BatchStream implements AutoCloseable {
  private final CollectionPlan plan;
  private final EpochOrder order;
  private final RowSelection rows;
  private final int rowsPerBatch;
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final DictionaryProvider.MapDictionaryProvider dictionaries;
  private final List<ColumnFiller> fillers = new ArrayList<>();
  /** Null when no matrix reader takes read-ahead hints (local stores): then nothing ahead. */
  private final ReadAheadHints hints;
  /** Batches worked out ahead for hints, in order, each filled when its turn comes. */
  private final java.util.ArrayDeque<Ahead> ahead = new java.util.ArrayDeque<>();
  /** Positions before this were hinted (or are being read). */
  private long hintedTo;
  private long position;
  private long rowsSent;
  private long bytesSent;

  private BatchStream(CollectionPlan plan, EpochOrder order, RowSelection rows,
      BufferAllocator allocator, int rowsPerBatch) {
    this.plan = plan;
    this.order = order;
    this.rows = rows;
    this.rowsPerBatch = rowsPerBatch;
    this.allocator = allocator;
    this.dictionaries = LabelDictionaries.build(plan.labels(), allocator);
    VectorSchemaRoot r = null;
    try {
      r = VectorSchemaRoot.create(plan.outputSchema().toArrow(), allocator);
      List<FieldVector> vectors = r.getFieldVectors();
      int v = 0;
      fillers.add(new StoreIndexFiller((IntVector) vectors.get(v++)));
      if (plan.request().returnIndex()) {
        fillers.add(new RowNumberFiller((BigIntVector) vectors.get(v++)));
      }
      for (MatrixColumnPlan m : plan.layers()) {
        fillers.add(matrixFiller(m, vectors.get(v++)));
      }
      for (LabelColumnPlan l : plan.labels()) {
        fillers.add(new LabelFiller(l, vectors.get(v++)));
      }
      for (MatrixColumnPlan m : plan.obsm()) {
        fillers.add(matrixFiller(m, vectors.get(v++)));
      }
    } catch (RuntimeException e) {
      if (r != null) {
        r.close();
      }
      LabelDictionaries.close(dictionaries);
      throw e;
    }
    this.root = r;
    this.hints = ReadAheadHints.of(plan);
  }

  /** A batch worked out ahead: its first position and rows. */
  private record Ahead(long first, BatchRows rows) {}

  /**
   * Opens a stream over the selected rows of the plan.
   *
   * @throws RequestException when a row is outside {@code [0, n_obs)}
   */
  public static BatchStream open(CollectionPlan plan, RowSelection rows,
      BufferAllocator allocator, int rowsPerBatch) {
    return open(plan, EpochOrder.identity(plan.nObs()), rows, allocator, rowsPerBatch);
  }

  /**
   * Opens a stream over positions of an epoch order.
   *
   * @throws RequestException when a position is outside the epoch
   */
  public static BatchStream open(CollectionPlan plan, EpochOrder order, RowSelection rows,
      BufferAllocator allocator, int rowsPerBatch) {
    if (rowsPerBatch <= 0) {
      throw new RequestException("rows per batch must be positive, got " + rowsPerBatch);
    }
    checkRows(rows, order.length(), order.isCollectionOrder() ? "the collection has "
        + plan.nObs() + " rows" : "the epoch has " + order.length() + " positions");
    return new BatchStream(plan, order, rows, allocator, rowsPerBatch);
  }

  private static void checkRows(RowSelection rows, long length, String what) {
    if (rows instanceof RowSelection.Range r) {
      if (r.stop() > length) {
        throw new RequestException("ticket range [" + r.start() + ", " + r.stop()
            + ") is out of range: " + what);
      }
      return;
    }
    for (long i = 0; i < rows.count(); i++) {
      long row = rows.row(i);
      if (row >= length) {
        throw new RequestException("ticket index " + row + " at position " + i
            + " is out of range: " + what);
      }
    }
  }

  private static ColumnFiller matrixFiller(MatrixColumnPlan m, FieldVector vector) {
    return m.column().sparse() ? new SparseMatrixFiller(m, vector) : new MatrixFiller(m, vector);
  }

  public VectorSchemaRoot root() {
    return root;
  }

  /** The allocator every buffer of this stream comes from. */
  public BufferAllocator allocator() {
    return allocator;
  }

  public DictionaryProvider dictionaries() {
    return dictionaries;
  }

  /** Fills the root with the next batch; false (root left empty) when every row was sent. */
  public boolean next() {
    long remaining = rows.count() - position;
    if (remaining <= 0) {
      return false;
    }
    int n = (int) Math.min(rowsPerBatch, remaining);
    BatchRows batch = batchAt(position, n);
    if (hints != null) {
      hintAhead(position + n);
    }
    try {
      for (int c = 0; c < fillers.size(); c++) {
        fill(c, batch);
      }
      // Whatever changed before this point may be in the batch: it is not sent.
      checkUnchanged(batch);
    } catch (StoreChangedException e) {
      throw e; // already says what changed
    } catch (RuntimeException | Error e) {
      // A read that failed on a store changed under it fails for that reason: a short read,
      // or a copy out of a chunk's mapped view whose pages a truncation took away, which the
      // JVM raises as an InternalError when this thread's code next lets it (here when that
      // is before the batch ends), possibly inside a call that wraps it.
      try {
        checkUnchanged(batch);
      } catch (RuntimeException changed) {
        changed.addSuppressed(e);
        throw changed;
      }
      throw e;
    }
    root.setRowCount(n);
    position += n;
    rowsSent += n;
    for (FieldVector v : root.getFieldVectors()) {
      bytesSent += v.getBufferSize();
    }
    return true;
  }

  /** The batch at {@code first}: as worked out for a hint, else now. */
  private BatchRows batchAt(long first, int n) {
    Ahead a = ahead.pollFirst();
    if (a != null && a.first() == first && a.rows().size == n) {
      return a.rows();
    }
    ahead.clear();
    return BatchRows.of(plan.rows(), order, rows, first, n);
  }

  /**
   * Hints the rows of the batches after the one at hand (which ends at {@code from}), up to
   * {@link ReadAheadHints#BATCHES_AHEAD} of them: each batch is hinted once, as it comes into
   * that window.
   */
  private void hintAhead(long from) {
    long end = Math.min(rows.count(), from + (long) ReadAheadHints.BATCHES_AHEAD * rowsPerBatch);
    hintedTo = Math.max(hintedTo, from);
    while (hintedTo < end) {
      int m = (int) Math.min(rowsPerBatch, rows.count() - hintedTo);
      BatchRows next = BatchRows.of(plan.rows(), order, rows, hintedTo, m);
      ahead.addLast(new Ahead(hintedTo, next));
      hints.hint(next);
      hintedTo += m;
    }
  }

  /** Fills column {@code c}; running out of memory names the column, a store and the limit. */
  private void fill(int c, BatchRows batch) {
    try {
      fillers.get(c).fill(batch);
    } catch (OutOfMemoryError e) {
      throw StoreResourceException.outOfMemory(someStore(batch), "",
          "filling column '" + root.getVector(c).getName() + "' of a batch", e);
    } catch (org.apache.arrow.memory.OutOfMemoryException e) {
      throw StoreResourceException.arrow(someStore(batch), "",
          "filling column '" + root.getVector(c).getName() + "' of a batch", limit(allocator), e);
    }
  }

  /** The first store with rows in the batch, which messages name. */
  private java.nio.file.Path someStore(BatchRows batch) {
    return plan.storeHandles().get(batch.storeOfRow[0]).path();
  }

  /** The smallest limit on the way to the root allocator: the one that ran out. */
  private static long limit(BufferAllocator a) {
    long limit = Long.MAX_VALUE;
    for (BufferAllocator p = a; p != null; p = p.getParentAllocator()) {
      limit = Math.min(limit, p.getLimit());
    }
    return limit;
  }

  /**
   * Fails when a store with rows in the batch was rewritten in place or truncated since it was
   * opened: the batch may mix its old and new bytes (one file check per such store and batch).
   */
  private void checkUnchanged(BatchRows batch) {
    for (int s = 0; s < batch.positions.length; s++) {
      if (batch.positions[s].length > 0) {
        plan.storeHandles().get(s).store().generation().checkUnchanged();
      }
    }
  }

  /**
   * What a failure {@code t} outside {@link #next} (while its batch was sent) ends the stream
   * with: when a fault of a mapped access is among its causes, the change of the first of the
   * plan's stores found changed, with {@code t} suppressed (a store truncated under a mapped
   * read faults it, and the JVM may raise that after the batch was filled); else {@code t}.
   */
  public Throwable faulted(Throwable t) {
    if (MappedAccessFaults.in(t) == null) {
      return t;
    }
    for (StoreHandle handle : plan.storeHandles()) {
      try {
        handle.store().generation().checkUnchanged();
      } catch (StoreChangedException changed) {
        changed.addSuppressed(t);
        return changed;
      }
    }
    return t;
  }

  public long rowsSent() {
    return rowsSent;
  }

  public long bytesSent() {
    return bytesSent;
  }

  @Override
  public void close() {
    try {
      root.close();
    } finally {
      LabelDictionaries.close(dictionaries);
    }
  }
}
