package io.annflight.bench;

import io.annflight.store.AnnDataStore;
import io.annflight.schema.ElementType;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import io.annflight.store.AnnDataStores;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the X of each given store in blocks of rows, materialising every block as a dense
 * row-major float[] (what a training loop gets), and prints rows/s. Driven by
 * integration-tests/bench/reader_bench.py, which times h5py/zarr the same way.
 *
 * <p>Usage: {@code ReaderBenchmark [--format h5ad|zarr] [--block 4096] [--passes 3] store...}
 * Output per store: {@code RESULT <store> <layout> <rows> <best seconds> <rows/s>} with a new
 * float[] per block (like numpy), then {@code REUSED ...} densifying into one reused float[]
 * (like a pipeline filling pooled buffers), which shows the reader's own cost.
 */
public final class ReaderBenchmark {

  private ReaderBenchmark() {}

  public static void main(String[] args) throws Exception {
    String format = "h5ad";
    int block = 4096;
    int passes = 3;
    List<Path> stores = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--format" -> format = args[++i];
        case "--block" -> block = Integer.parseInt(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        default -> stores.add(Path.of(args[i]));
      }
    }
    for (Path p : stores) {
      try (AnnDataStore store = open(format, p)) {
        MatrixReader x = store.matrix("X").orElseThrow();
        for (boolean reuse : new boolean[] {false, true}) {
          float[] buffer = reuse ? new float[Math.toIntExact(block * x.nCols())] : null;
          double best = Double.MAX_VALUE;
          long checksum = 0;
          for (int pass = 0; pass < passes; pass++) {
            long t0 = System.nanoTime();
            checksum = 0;
            for (long s = 0; s < x.nRows(); s += block) {
              RowBlock b = x.readRows(s, Math.min(x.nRows(), s + block));
              float[] dense = buffer;
              if (reuse) {
                densifyInto(b, buffer, true);
              } else {
                dense = toDenseFloats(b);
              }
              checksum += Float.floatToIntBits(dense[b.nRows() * b.nCols() / 2]);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
          }
          System.out.printf("%s %s %s %d %.4f %.0f (checksum %d)%n",
              reuse ? "REUSED" : "RESULT", p.getFileName(), x.layout(), x.nRows(), best,
              x.nRows() / best, checksum);
        }
      }
    }
  }

  /** The store opener: AnnDataStores tells h5ad from Zarr; --format only checks the caller. */
  private static AnnDataStore open(String format, Path p) throws Exception {
    if (!format.equals("h5ad") && !format.equals("zarr")) {
      throw new IllegalArgumentException("unknown --format " + format + " (h5ad or zarr)");
    }
    return AnnDataStores.open(p);
  }

  /** Densifies into a new array, as numpy does for every h5py block. */
  static float[] toDenseFloats(RowBlock block) {
    float[] out = new float[block.nRows() * block.nCols()];
    densifyInto(block, out, false);
    return out;
  }

  /** Densifies into {@code out} (cleared first for sparse blocks when {@code clear}). */
  static void densifyInto(RowBlock block, float[] out, boolean clear) {
    int nCols = block.nCols();
    int n = block.nRows() * nCols;
    if (block instanceof RowBlock.Dense d) {
      TypedBuffer v = d.values();
      if (v.type() == ElementType.FLOAT32) {
        floats(v).get(out, 0, n);
      } else {
        for (int i = 0; i < n; i++) {
          out[i] = (float) v.getDouble(i);
        }
      }
    } else if (block instanceof RowBlock.Sparse s) {
      if (clear) {
        java.util.Arrays.fill(out, 0, n, 0f);
      }
      int[] offsets = s.rowOffsets();
      int[] cols = s.columns();
      TypedBuffer v = s.values();
      float[] values = new float[s.nnz()];
      if (v.type() == ElementType.FLOAT32) {
        floats(v).get(values, 0, values.length);
      } else {
        for (int k = 0; k < values.length; k++) {
          values[k] = (float) v.getDouble(k);
        }
      }
      for (int r = 0; r < s.nRows(); r++) {
        int base = r * nCols;
        for (int k = offsets[r]; k < offsets[r + 1]; k++) {
          out[base + cols[k]] = values[k];
        }
      }
    }
  }

  private static FloatBuffer floats(TypedBuffer v) {
    ByteOrder order = v.bytes().order();
    return v.bytes().duplicate().order(order).clear().asFloatBuffer();
  }
}
