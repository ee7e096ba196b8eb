package io.annflight.testing;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/** Reads Arrow vectors back into plain Java values for assertions. */
public final class ArrowValues {
  private ArrowValues() {}

  /** Numeric value of element j of a primitive vector, as a double (unsigned read unsigned). */
  public static double number(ValueVector v, int j) {
    if (v instanceof Float4Vector f) {
      return f.get(j);
    } else if (v instanceof Float8Vector f) {
      return f.get(j);
    } else if (v instanceof IntVector x) {
      return x.get(j);
    } else if (v instanceof BigIntVector x) {
      return x.get(j);
    } else if (v instanceof SmallIntVector x) {
      return x.get(j);
    } else if (v instanceof TinyIntVector x) {
      return x.get(j);
    } else if (v instanceof UInt1Vector x) {
      return x.getValueAsLong(j);
    } else if (v instanceof UInt2Vector x) {
      return x.get(j);
    } else if (v instanceof UInt4Vector x) {
      return x.getValueAsLong(j);
    } else if (v instanceof UInt8Vector x) {
      return x.getObjectNoOverflow(j).doubleValue();
    } else if (v instanceof BitVector x) {
      return x.get(j);
    }
    throw new IllegalArgumentException("not a numeric vector: " + v.getClass());
  }

  /** Rows of a FixedSizeList or List column: null rows stay null. */
  public static List<double[]> rows(FieldVector v) {
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < v.getValueCount(); i++) {
      if (v.isNull(i)) {
        out.add(null);
        continue;
      }
      int start;
      int end;
      ValueVector child;
      if (v instanceof FixedSizeListVector f) {
        start = i * f.getListSize();
        end = start + f.getListSize();
        child = f.getDataVector();
      } else {
        ListVector l = (ListVector) v;
        start = l.getElementStartIndex(i);
        end = l.getElementEndIndex(i);
        child = l.getDataVector();
      }
      double[] row = new double[end - start];
      for (int j = start; j < end; j++) {
        row[j - start] = number(child, j);
      }
      out.add(row);
    }
    return out;
  }

  /** One row of a {@code matrix_format: "csr"} column: its entries' indices and values. */
  public record SparseRow(int[] index, double[] value) {
    /** The row dense, {@code width} wide; fails on an index out of order or out of range. */
    public double[] dense(int width) {
      double[] out = new double[width];
      for (int k = 0; k < index.length; k++) {
        if (index[k] < 0 || index[k] >= width || (k > 0 && index[k] <= index[k - 1])) {
          throw new AssertionError("entry " + k + " has index " + index[k]
              + ": not ascending within [0, " + width + ")");
        }
        out[index[k]] = value[k];
      }
      return out;
    }
  }

  /** Whether a column is {@code List<Struct<index, value>>} (matrix_format csr). */
  public static boolean isSparse(FieldVector v) {
    return v instanceof ListVector l
        && l.getDataVector() instanceof org.apache.arrow.vector.complex.NonNullableStructVector;
  }

  /** Rows of a csr column: null rows stay null. */
  public static List<SparseRow> sparseRows(FieldVector v) {
    ListVector l = (ListVector) v;
    var struct = (org.apache.arrow.vector.complex.NonNullableStructVector) l.getDataVector();
    IntVector index = (IntVector) struct.getChild("index");
    ValueVector value = struct.getChild("value");
    List<SparseRow> out = new ArrayList<>();
    for (int i = 0; i < v.getValueCount(); i++) {
      if (l.isNull(i)) {
        out.add(null);
        continue;
      }
      int start = l.getElementStartIndex(i);
      int end = l.getElementEndIndex(i);
      int[] idx = new int[end - start];
      double[] val = new double[end - start];
      for (int j = start; j < end; j++) {
        idx[j - start] = index.get(j);
        val[j - start] = number(value, j);
      }
      out.add(new SparseRow(idx, val));
    }
    return out;
  }

  /** A plain (non-list) value as String/Long/Double/Boolean, or null. */
  public static Object scalar(ValueVector v, int i) {
    if (v.isNull(i)) {
      return null;
    }
    if (v instanceof VarCharVector s) {
      return new String(s.get(i), java.nio.charset.StandardCharsets.UTF_8);
    } else if (v instanceof BigIntVector b) {
      return b.get(i);
    } else if (v instanceof IntVector b) {
      return (long) b.get(i);
    } else if (v instanceof Float8Vector f) {
      return f.get(i);
    } else if (v instanceof BitVector b) {
      return b.get(i) == 1;
    }
    throw new IllegalArgumentException("not a label vector: " + v.getClass());
  }
}
