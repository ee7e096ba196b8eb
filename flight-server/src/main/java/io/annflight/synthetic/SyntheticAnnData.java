package io.annflight.synthetic;

import java.util.Arrays;

/**
 * A small AnnData the server makes up itself (for its warm-up, and for tests that need stores
 * of a given width or density): {@code nObs} cells ({@code c<i>}) x {@code nVars} genes
 * ({@code g<j>}), each row holding {@code nonZerosPerRow} non-zero counts (1..9) in columns
 * chosen from the row's number, an {@code obs} categorical {@code cell_type} of
 * {@value #CELL_TYPES} types and, with {@code obsmColumns} > 0, an {@code obsm}
 * {@value #OBSM_KEY} of that many float32 columns. Deterministic: the same arguments give the
 * same values.
 *
 * @param csr whether {@code X} is stored as {@code csr_matrix} (else a dense array)
 * @param obsmColumns columns of {@code obsm/}{@value #OBSM_KEY}; 0 writes no {@code obsm}
 */
public record SyntheticAnnData(int nObs, int nVars, int nonZerosPerRow, boolean csr,
    int obsmColumns) {
  public static final int CELL_TYPES = 8;
  /** The obsm key written when {@code obsmColumns} > 0 (as scanpy names its PCA). */
  public static final String OBSM_KEY = "X_pca";

  public SyntheticAnnData {
    if (nObs <= 0 || nVars <= 0 || nonZerosPerRow < 0 || nonZerosPerRow > nVars
        || obsmColumns < 0) {
      throw new IllegalArgumentException("a synthetic AnnData needs rows, columns, at most"
          + " one non-zero per column and >= 0 obsm columns, got " + nObs + " x " + nVars
          + " with " + nonZerosPerRow + " non-zeros per row and " + obsmColumns
          + " obsm columns");
    }
  }

  /** Without {@code obsm}. */
  public SyntheticAnnData(int nObs, int nVars, int nonZerosPerRow, boolean csr) {
    this(nObs, nVars, nonZerosPerRow, csr, 0);
  }

  /** Row {@code i} of {@code obsm/}{@value #OBSM_KEY}. */
  public float[] obsmRow(int i) {
    float[] row = new float[obsmColumns];
    for (int j = 0; j < obsmColumns; j++) {
      row[j] = (i % 97) * 0.25f - j;
    }
    return row;
  }

  /** Row {@code i}'s non-zero columns, ascending. */
  public int[] columns(int i) {
    // Evenly spread from a row-dependent start, so rows differ and columns stay distinct.
    int[] cols = new int[nonZerosPerRow];
    long start = (i * 2_654_435_761L) % nVars;
    for (int k = 0; k < nonZerosPerRow; k++) {
      cols[k] = (int) ((start + (long) k * nVars / Math.max(1, nonZerosPerRow)) % nVars);
    }
    Arrays.sort(cols);
    return cols;
  }

  /** The value of row {@code i}'s {@code k}-th non-zero. */
  public float value(int i, int k) {
    return 1 + (i + 3 * k) % 9;
  }

  /** Row {@code i} as dense values. */
  public float[] denseRow(int i) {
    float[] row = new float[nVars];
    int[] cols = columns(i);
    for (int k = 0; k < cols.length; k++) {
      row[cols[k]] = value(i, k);
    }
    return row;
  }

  /** {@code cell_type}'s code of row {@code i}. */
  public byte cellType(int i) {
    return (byte) (i % CELL_TYPES);
  }

  public String[] cellTypes() {
    String[] out = new String[CELL_TYPES];
    for (int k = 0; k < CELL_TYPES; k++) {
      out[k] = "type_" + k;
    }
    return out;
  }

  public String[] obsNames() {
    String[] out = new String[nObs];
    for (int i = 0; i < nObs; i++) {
      out[i] = "c" + i;
    }
    return out;
  }

  public String[] varNames() {
    String[] out = new String[nVars];
    for (int j = 0; j < nVars; j++) {
      out[j] = "g" + j;
    }
    return out;
  }

  /** The CSR arrays of {@code X}: indptr, indices, data. */
  public Csr csrArrays() {
    long[] indptr = new long[nObs + 1];
    int[] indices = new int[nObs * nonZerosPerRow];
    float[] data = new float[indices.length];
    int p = 0;
    for (int i = 0; i < nObs; i++) {
      int[] cols = columns(i);
      for (int k = 0; k < cols.length; k++, p++) {
        indices[p] = cols[k];
        data[p] = value(i, k);
      }
      indptr[i + 1] = p;
    }
    return new Csr(indptr, indices, data);
  }

  /** {@code X} in CSR form. */
  public record Csr(long[] indptr, int[] indices, float[] data) {}
}
