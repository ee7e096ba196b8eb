package io.annflight.store.anndata;

import io.annflight.store.DataFrameReader;
import java.util.List;
import java.util.function.Supplier;

/**
 * What every data frame layout shares once opened: its path, length, column names, and its
 * index, decoded on first use only (an atlas store's obs index holds millions of names that
 * serving rows never needs).
 */
abstract class IndexedFrame implements DataFrameReader {

  private final String elementPath;
  private final long length;
  private final List<String> columnNames;
  private final Supplier<List<String>> readIndex;
  private volatile List<String> index;

  /**
   * @param length rows, from the index array's shape (nothing is read for it)
   * @param readIndex decodes the index; called at most once by a successful {@link #index()}
   */
  IndexedFrame(String elementPath, long length, Supplier<List<String>> readIndex,
      List<String> columnNames) {
    this.elementPath = elementPath;
    this.length = length;
    this.readIndex = readIndex;
    this.columnNames = List.copyOf(columnNames);
  }

  @Override
  public final String elementPath() {
    return elementPath;
  }

  @Override
  public final long length() {
    return length;
  }

  @Override
  public final List<String> index() {
    List<String> i = index;
    if (i == null) {
      synchronized (this) {
        i = index;
        if (i == null) {
          i = List.copyOf(readIndex.get());
          index = i;
        }
      }
    }
    return i;
  }

  @Override
  public final List<String> columnNames() {
    return columnNames;
  }
}
