package io.annflight.store;

import java.util.List;

/** An anndata data frame ({@code obs}, {@code var}, {@code raw/var}). */
public interface DataFrameReader {

  /** Element path inside the store, e.g. {@code obs}. */
  String elementPath();

  /** Number of rows. */
  long length();

  /** The index values (from the column named by the {@code _index} attribute). */
  List<String> index();

  /** Column names in {@code column-order} (the index column excluded). */
  List<String> columnNames();

  default boolean hasColumn(String name) {
    return columnNames().contains(name);
  }

  /**
   * Reads a whole column.
   *
   * @throws StoreException when the column is missing or its encoding is not understood
   */
  ColumnData column(String name);
}
