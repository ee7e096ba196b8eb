package io.annflight.arrow;

import io.annflight.collection.CollectionPlan;
import io.annflight.collection.MatrixColumnPlan;
import io.annflight.store.MatrixReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Tells the matrix readers of a stream's stores in a bucket which rows its next batches hold,
 * so they fetch those rows' bytes before the batches are filled: an epoch's plan (shuffled,
 * block-shuffled, in order) is known ahead, while a reader alone only sees the pattern of its
 * past reads. Hints run on two shared daemon threads, never on the stream's: working out a
 * CSR matrix's ranges reads its pointers, which may wait for a fetch. A hint that fails is
 * dropped (the batch's own read reports the error); when the hints' queue is full the oldest
 * is dropped. Streams over local stores get none of this ({@link #of} returns null).
 */
final class ReadAheadHints {
  /** Batches hinted ahead of the one being filled. */
  static final int BATCHES_AHEAD = 4;

  private static final ThreadPoolExecutor HINTS = hintThreads();

  /** Per store, the readers (of every matrix column) that take hints there. */
  private final List<List<MatrixReader>> readers;

  private ReadAheadHints(List<List<MatrixReader>> readers) {
    this.readers = readers;
  }

  /** The hints of a plan's matrix columns; null when no reader takes hints (local stores). */
  static ReadAheadHints of(CollectionPlan plan) {
    List<MatrixColumnPlan> columns = new ArrayList<>(plan.layers());
    columns.addAll(plan.obsm());
    int nStores = plan.storeHandles().size();
    List<List<MatrixReader>> readers = new ArrayList<>();
    boolean any = false;
    for (int s = 0; s < nStores; s++) {
      List<MatrixReader> here = new ArrayList<>();
      for (MatrixColumnPlan m : columns) {
        Optional<MatrixReader> r = m.readers().get(s);
        if (r.isPresent() && r.get().readsAhead()) {
          here.add(r.get());
        }
      }
      any |= !here.isEmpty();
      readers.add(List.copyOf(here));
    }
    return any ? new ReadAheadHints(List.copyOf(readers)) : null;
  }

  /** Hints the rows of {@code batch}, one task per store and matrix. */
  void hint(BatchRows batch) {
    for (int s = 0; s < batch.localRows.length && s < readers.size(); s++) {
      long[] rows = batch.localRows[s];
      if (rows.length == 0) {
        continue;
      }
      for (MatrixReader r : readers.get(s)) {
        HINTS.execute(() -> {
          try {
            r.prefetch(rows);
          } catch (RuntimeException e) {
            // a hint only: the batch's read meets the same fault and reports it
          }
        });
      }
    }
  }

  private static ThreadPoolExecutor hintThreads() {
    ThreadPoolExecutor e = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(256), r -> {
          Thread t = new Thread(r, "annflight-read-ahead-hints");
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.DiscardOldestPolicy());
    e.allowCoreThreadTimeOut(true);
    return e;
  }
}
