package io.annflight.fuzz;

import io.annflight.store.AnnDataStore;
import io.annflight.store.DataFrameReader;
import io.annflight.store.MatrixReader;
import io.annflight.store.StoreException;
import io.annflight.store.container.ContainerArray;
import java.util.Optional;

/**
 * What the fuzz targets read from a store, each read bounded the way a server's are (a batch of
 * rows, never a whole huge array), and what counts as an answer: a value, or a
 * {@link StoreException} (the documented failure: it names the file and element). Anything
 * else that escapes is a finding.
 */
final class FuzzReads {
  /** Rows read from the top of a matrix, and values a read may ask for at most. */
  static final int ROWS = 32;
  static final long MAX_VALUES = 1 << 20;

  private FuzzReads() {}

  /** Runs a read; a StoreException is an answer, and must name its file. */
  static void answer(Runnable read) {
    try {
      read.run();
    } catch (StoreException e) {
      if (e.file() == null || e.getMessage() == null) {
        throw new AssertionError("a store error without its file: " + e, e);
      }
    }
  }

  /** Everything a server reads of an opened store: frames, then every matrix. */
  static void readStore(AnnDataStore store) {
    answer(() -> readFrame(store.obs()));
    answer(() -> readFrame(store.var()));
    answer(() -> store.rawVar().ifPresent(FuzzReads::readFrame));
    answer(store::modalities);
    answer(() -> readMatrix(store, "X"));
    answer(() -> readMatrix(store, "raw/X"));
    answer(() -> store.layerNames().forEach(k -> answer(() -> readMatrix(store, "layers/" + k))));
    answer(() -> store.obsmNames().forEach(k -> answer(() -> {
      store.elementKind("obsm/" + k);
      readMatrix(store, "obsm/" + k);
    })));
  }

  static void readFrame(DataFrameReader frame) {
    frame.length();
    frame.index();
    for (String c : frame.columnNames()) {
      answer(() -> frame.column(c));
    }
  }

  static void readMatrix(AnnDataStore store, String element) {
    Optional<MatrixReader> m = store.matrix(element);
    if (m.isEmpty()) {
      return;
    }
    MatrixReader r = m.get();
    long rows = r.nRows();
    long cols = r.nCols();
    r.elementType();
    r.layout();
    if (rows <= 0 || cols > MAX_VALUES / ROWS) {
      return;
    }
    answer(() -> r.readRows(0, Math.min(rows, ROWS)));
    answer(() -> r.readRows(new long[] {0, rows / 2, rows / 2, rows - 1}));
  }

  /** A container array read as the encoding layer reads one, within the bounds above. */
  static void readArray(ContainerArray a) {
    long[] shape = a.shape();
    long rows = a.nRows();
    switch (a.kind()) {
      case NUMERIC -> {
        a.elementType();
        long width = a.rowWidth();
        if (rows <= 0 || width > MAX_VALUES / ROWS) {
          return;
        }
        answer(() -> a.readRange(0, Math.min(rows, ROWS)));
        answer(() -> a.readRows(new long[] {0, rows / 2, rows / 2, rows - 1}));
        if (rows * width <= MAX_VALUES) {
          answer(() -> a.readRange(0, rows));
        }
      }
      case STRING -> {
        if (shape.length <= 1 && rows <= MAX_VALUES) {
          answer(a::readStrings);
        }
      }
      case COMPOUND -> {
        for (String f : a.fieldNames()) {
          answer(() -> readArray(a.field(f)));
        }
      }
    }
  }
}
