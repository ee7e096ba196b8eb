package io.annflight.collection;

import io.annflight.schema.LabelType;
import io.annflight.store.ColumnData;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The integer encoding of one obs key: positions in the merged categories (sorted union over
 * stores) with the unknown label taken out. Codes are precomputed per store row so batches only
 * copy ints; -1 stands for null (missing value or the unknown label).
 */
public final class LabelEncoding {
  private final String key;
  private final LabelType type;
  private final List<Object> dictionary;
  private final int[][] codes;

  private LabelEncoding(String key, LabelType type, List<Object> dictionary, int[][] codes) {
    this.key = key;
    this.type = type;
    this.dictionary = dictionary;
    this.codes = codes;
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
    int[][] codes = new int[columns.size()][];
    for (int s = 0; s < columns.size(); s++) {
      if (columns.get(s).isPresent()) {
        codes[s] = encode(columns.get(s).get(), type, position);
      }
    }
    return new LabelEncoding(key, type, List.copyOf(dictionary), codes);
  }

  private static int[] encode(ColumnData column, LabelType type, Map<Object, Integer> position) {
    int[] out = new int[column.length()];
    if (column instanceof ColumnData.Categorical cat) {
      // Map each category once, then every row is an array lookup.
      int nCats = cat.categories().length();
      int[] catCode = new int[nCats];
      for (int c = 0; c < nCats; c++) {
        Object v = LabelValues.labelAt(cat.categories(), c, type);
        catCode[c] = v == null ? -1 : position.getOrDefault(v, -1);
      }
      int[] rowCodes = cat.codes();
      for (int r = 0; r < out.length; r++) {
        int code = rowCodes[r];
        out[r] = code < 0 || code >= nCats ? -1 : catCode[code];
      }
    } else {
      for (int r = 0; r < out.length; r++) {
        Object v = LabelValues.labelAt(column, r, type);
        out[r] = v == null ? -1 : position.getOrDefault(v, -1);
      }
    }
    return out;
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

  /** Codes of store s by local row, or null when the store lacks the key. */
  public int[] codes(int store) {
    return codes[store];
  }
}
