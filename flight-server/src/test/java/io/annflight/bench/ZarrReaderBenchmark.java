package io.annflight.bench;

import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.store.TypedBuffer;
import io.annflight.store.AnnDataStores;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

/**
 * Throughput of the Zarr reader: 4,096-row blocks of X materialised as dense float32, read in
 * order over the whole matrix, and as sorted random row lists. Not a test; run by hand:
 * {@code java -cp <test classpath> io.annflight.bench.ZarrReaderBenchmark <store.zarr>...}
 * (integration-tests/bench/zarr_reader_bench.py writes the stores and runs zarr-python on them).
 */
public final class ZarrReaderBenchmark {

  private static final int BLOCK = 4096;

  public static void main(String[] args) {
    int passes = Integer.getInteger("passes", 3);
    for (String arg : args) {
      try (io.annflight.store.AnnDataStore store = AnnDataStores.open(Path.of(arg))) {
        MatrixReader x = store.matrix("X").orElseThrow();
        long n = x.nRows();
        sequential(x, false); // warm-up: JIT and page cache
        double readOnly = 0;
        double best = 0;
        for (int p = 0; p < passes; p++) {
          readOnly = Math.max(readOnly, sequential(x, false));
          best = Math.max(best, sequential(x, true));
        }
        double random = 0;
        for (int p = 0; p < passes; p++) {
          random = Math.max(random, randomBlocks(x, 20, p));
        }
        System.out.printf(
            "%s X %s %dx%d %s: sequential %,.0f rows/s (readRows alone %,.0f rows/s),"
                + " random sorted 4096-row lists %,.0f rows/s%n",
            arg, x.layout(), n, x.nCols(), x.elementType().numpyName(), best, readOnly, random);
      }
    }
  }

  private static double sequential(MatrixReader x, boolean materialise) {
    long n = x.nRows();
    float[] dense = new float[BLOCK * (int) x.nCols()];
    long t0 = System.nanoTime();
    double checksum = 0;
    for (long a = 0; a < n; a += BLOCK) {
      RowBlock block = x.readRows(a, Math.min(n, a + BLOCK));
      if (materialise) {
        toDenseFloat(block, dense);
        checksum += dense[dense.length / 2];
      } else {
        checksum += block.nRows();
      }
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (checksum == -1) {
      System.out.println(checksum);
    }
    return n / s;
  }

  private static double randomBlocks(MatrixReader x, int blocks, long seed) {
    Random random = new Random(seed);
    float[] dense = new float[BLOCK * (int) x.nCols()];
    long t0 = System.nanoTime();
    double checksum = 0;
    for (int b = 0; b < blocks; b++) {
      long[] rows = random.longs(BLOCK, 0, x.nRows()).sorted().toArray();
      toDenseFloat(x.readRows(rows), dense);
      checksum += dense[0];
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (checksum == -1) {
      System.out.println(checksum);
    }
    return (double) blocks * BLOCK / s;
  }

  /**
   * What the engine does for a dense float32 column into a reused buffer: bulk copy, or clear
   * and scatter.
   */
  static void toDenseFloat(RowBlock block, float[] out) {
    if (block instanceof RowBlock.Dense d) {
      copy(d.values(), out);
    } else if (block instanceof RowBlock.Sparse s) {
      TypedBuffer v = s.values();
      int[] cols = s.columns();
      int[] off = s.rowOffsets();
      int nc = s.nCols();
      java.util.Arrays.fill(out, 0, s.nRows() * nc, 0f);
      float[] vals = new float[s.nnz()];
      v.bytes().duplicate().order(v.isLittleEndian() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN)
          .asFloatBuffer().get(vals);
      for (int r = 0; r < s.nRows(); r++) {
        int base = r * nc;
        for (int e = off[r]; e < off[r + 1]; e++) {
          out[base + cols[e]] = vals[e];
        }
      }
    }
  }

  private static void copy(TypedBuffer v, float[] out) {
    if (v.type() == io.annflight.schema.ElementType.FLOAT32) {
      v.bytes().duplicate().order(v.bytes().order()).asFloatBuffer().get(out, 0, v.length());
    } else {
      for (int i = 0; i < v.length(); i++) {
        out[i] = (float) v.getDouble(i);
      }
    }
  }
}
