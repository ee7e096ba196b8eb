package io.annflight.collection;

import io.annflight.schema.ElementType;
import io.annflight.schema.OutputColumn;
import io.annflight.store.MatrixReader;
import java.util.List;
import java.util.Optional;

/**
 * One matrix output column (a layers key or {@code obsm_<key>}): where each store's rows come
 * from and where their columns land.
 *
 * @param readers per store, the matrix or empty (null rows) when the store lacks it
 * @param scatterMaps per store, store column to output position (-1 dropped), null = identity
 * @param rowWidths per store, the output width of its rows (0 when it lacks the element)
 */
public record MatrixColumnPlan(
    OutputColumn.Matrix column,
    List<Optional<MatrixReader>> readers,
    int[][] scatterMaps,
    int[] rowWidths) {

  public ElementType outType() {
    return column.type();
  }

  public String name() {
    return column.name();
  }

  /**
   * Whether a scatter map keeps the stored column order among the columns it keeps (then rows
   * stored ascending stay ascending); the identity (null) does.
   */
  public static boolean keepsOrder(int[] map) {
    if (map == null) {
      return true;
    }
    int last = -1;
    for (int j : map) {
      if (j >= 0) {
        if (j < last) {
          return false;
        }
        last = j;
      }
    }
    return true;
  }
}
