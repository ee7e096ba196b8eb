package io.annflight.store.anndata;

import io.annflight.store.DataFrameReader;
import java.util.List;

/** What every data frame layout shares once opened: its path, index and column names. */
abstract class IndexedFrame implements DataFrameReader {

  private final String elementPath;
  private final List<String> index;
  private final List<String> columnNames;

  IndexedFrame(String elementPath, List<String> index, List<String> columnNames) {
    this.elementPath = elementPath;
    this.index = List.copyOf(index);
    this.columnNames = List.copyOf(columnNames);
  }

  @Override
  public final String elementPath() {
    return elementPath;
  }

  @Override
  public final long length() {
    return index.size();
  }

  @Override
  public final List<String> index() {
    return index;
  }

  @Override
  public final List<String> columnNames() {
    return columnNames;
  }
}
