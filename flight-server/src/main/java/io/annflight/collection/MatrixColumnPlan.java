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
   * About how many entries a row of store {@code s} has in the output: its width for a dense
   * store; for a sparse one, the values it stores per row on average, scaled to the share of
   * its columns the output keeps, at most the width. 0 when the store lacks the element.
   */
  public double entriesPerRow(int s) {
    if (readers.get(s).isEmpty()) {
      return 0;
    }
    MatrixReader r = readers.get(s).get();
    int width = rowWidths[s];
    if (r.layout() == io.annflight.store.MatrixLayout.DENSE || r.nRows() == 0 || r.nCols() == 0) {
      return width;
    }
    int[] map = scatterMaps[s];
    long kept = map == null ? r.nCols() : ProjectedMatrix.keptColumns(map);
    double perRow = (double) r.storedValues() / r.nRows() * kept / r.nCols();
    return Math.min(width, perRow);
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
