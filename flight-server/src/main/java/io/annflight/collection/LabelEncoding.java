package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The integer encoding of one obs key: positions in the merged categories (sorted union over
 * stores) with the unknown label taken out; -1 stands for null (missing value or the unknown
 * label). Nothing is kept per row: a categorical's categories are mapped once per store, and a
 * row's code is looked up through its column's code (read from the obs cache when batches are
 * filled); other columns look each value up.
 */
public final class LabelEncoding {
  private final String key;
  private final LabelType type;
  private final List<Object> dictionary;
  private final Map<Object, Integer> position;
  /** Per store, the dictionary code of each category of a categorical column; else null. */
  private final int[][] categoryCodes;

  private LabelEncoding(String key, LabelType type, List<Object> dictionary,
      Map<Object, Integer> position, int[][] categoryCodes) {
    this.key = key;
    this.type = type;
    this.dictionary = dictionary;
    this.position = position;
    this.categoryCodes = categoryCodes;
  }

  /**
   * @param mergedCategories sorted union of every store's categories (unknown label included)
   * @param columns per store, the column or empty when the store lacks the key
   */
  static LabelEncoding build(String key, LabelType type, List<Object> mergedCategories,
      String unknownLabel, List<Optional<ColumnData>> columns) {
    List<Object> dictionary = mergedCategories.stream()
        .filter(v -> unknownLabel == null || !unknownLabel.equals(v))
        .toList();
    Map<Object, Integer> position = new HashMap<>();
    for (int i = 0; i < dictionary.size(); i++) {
      position.put(dictionary.get(i), i);
    }
    int[][] categoryCodes = new int[columns.size()][];
    for (int s = 0; s < columns.size(); s++) {
      if (columns.get(s).isPresent()
          && columns.get(s).get() instanceof ColumnData.Categorical cat) {
        int nCats = cat.categories().length();
        int[] codes = new int[nCats];
        for (int c = 0; c < nCats; c++) {
          Object v = LabelValues.labelAt(cat.categories(), c, type);
          codes[c] = v == null ? -1 : position.getOrDefault(v, -1);
        }
        categoryCodes[s] = codes;
      }
    }
    return new LabelEncoding(key, type, List.copyOf(dictionary), position, categoryCodes);
  }

  /**
   * The code of a row of store {@code store}, whose column (as the plan saw it) is
   * {@code column}; -1 for null.
   */
  public int code(int store, ColumnData column, int row) {
    int[] byCategory = categoryCodes[store];
    if (byCategory != null) {
      int c = ((ColumnData.Categorical) column).code(row);
      return c < 0 || c >= byCategory.length ? -1 : byCategory[c];
    }
    Object v = LabelValues.labelAt(column, row, type);
    return v == null ? -1 : position.getOrDefault(v, -1);
  }

  public String key() {
    return key;
  }

  public LabelType type() {
    return type;
  }

  /** Merged categories without the unknown label: the Arrow dictionary. */
  public List<Object> dictionary() {
    return dictionary;
  }
}
