package io.annflight.bench;

import io.annflight.store.AnnDataStore;
import io.annflight.schema.ElementType;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import io.annflight.store.h5ad.H5adStore;
import java.lang.reflect.Method;
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
 * Output: one line per store, {@code RESULT <store> <layout> <rows> <best seconds> <rows/s>}.
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
        double best = Double.MAX_VALUE;
        long checksum = 0;
        for (int pass = 0; pass < passes; pass++) {
          long t0 = System.nanoTime();
          checksum = 0;
          for (long s = 0; s < x.nRows(); s += block) {
            float[] dense = toDenseFloats(x.readRows(s, Math.min(x.nRows(), s + block)));
            checksum += Float.floatToIntBits(dense[dense.length / 2]);
          }
          best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("RESULT %s %s %d %.4f %.0f (checksum %d)%n", p.getFileName(),
            x.layout(), x.nRows(), best, x.nRows() / best, checksum);
      }
    }
  }

  /** The store opener; Zarr is looked up by name so this compiles before that reader lands. */
  private static AnnDataStore open(String format, Path p) throws Exception {
    if (format.equals("h5ad")) {
      return H5adStore.open(p);
    }
    if (format.equals("zarr")) {
      Method m = Class.forName("io.annflight.store.zarr.ZarrStore").getMethod("open", Path.class);
      return (AnnDataStore) m.invoke(null, p);
    }
    throw new IllegalArgumentException("unknown --format " + format + " (h5ad or zarr)");
  }

  public static float[] toDense(RowBlock block) {
    return toDenseFloats(block);
  }

  static float[] toDenseFloats(RowBlock block) {
    int nCols = block.nCols();
    float[] out = new float[block.nRows() * nCols];
    if (block instanceof RowBlock.Dense d) {
      TypedBuffer v = d.values();
      if (v.type() == ElementType.FLOAT32) {
        floats(v).get(out, 0, out.length);
      } else {
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) v.getDouble(i);
        }
      }
    } else if (block instanceof RowBlock.Sparse s) {
      int[] offsets = s.rowOffsets();
      int[] cols = s.columns();
      TypedBuffer v = s.values();
      if (v.type() == ElementType.FLOAT32) {
        FloatBuffer f = floats(v);
        for (int r = 0; r < s.nRows(); r++) {
          int base = r * nCols;
          for (int k = offsets[r]; k < offsets[r + 1]; k++) {
            out[base + cols[k]] = f.get(k);
          }
        }
      } else {
        for (int r = 0; r < s.nRows(); r++) {
          for (int k = offsets[r]; k < offsets[r + 1]; k++) {
            out[r * nCols + cols[k]] = (float) v.getDouble(k);
          }
        }
      }
    }
    return out;
  }

  private static FloatBuffer floats(TypedBuffer v) {
    ByteOrder order = v.bytes().order();
    return v.bytes().duplicate().order(order).clear().asFloatBuffer();
  }
}
