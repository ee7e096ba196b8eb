package io.annflight.store;

/** How a matrix element is laid out on disk. */
public enum MatrixLayout {
  /** A plain n-dimensional array (anndata encoding-type {@code array}). */
  DENSE,
  /** Compressed sparse rows ({@code csr_matrix}). */
  CSR,
  /** Compressed sparse columns ({@code csc_matrix}); row access has to scan columns. */
  CSC
}
