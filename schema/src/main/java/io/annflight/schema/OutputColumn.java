package io.annflight.schema;

import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/** One column of the record batches a request streams, in the contract's naming and types. */
public sealed interface OutputColumn
    permits OutputColumn.StoreIndex, OutputColumn.Row, OutputColumn.Matrix, OutputColumn.Label {

  String STORE_IDX = "_store_idx";
  String ROW = "_row";
  String OBSM_PREFIX = "obsm_";
  /** Child field name of list columns, as pyarrow names it. */
  String ITEM = "item";

  String name();

  Field field();

  /** {@code _store_idx}: int32, never null. */
  record StoreIndex() implements OutputColumn {
    @Override
    public String name() {
      return STORE_IDX;
    }

    @Override
    public Field field() {
      return new Field(STORE_IDX, FieldType.notNullable(new ArrowType.Int(32, true)), null);
    }
  }

  /**
   * {@code _row} (with {@code return_index}): int64, never null: the row's number in the
   * collection ({@code [0, n_obs)}, after obs_filter, before split and sampling).
   */
  record Row() implements OutputColumn {
    @Override
    public String name() {
      return ROW;
    }

    @Override
    public Field field() {
      return new Field(ROW, FieldType.notNullable(new ArrowType.Int(64, true)), null);
    }
  }

  /**
   * A layers key ({@code X}, {@code raw.X}, a layer) or an obsm key ({@code obsm_<key>}):
   * {@code FixedSizeList<T>[width]}, or {@code List<T>} when {@code width} is null (rows of
   * different stores differ in length). Sparse ({@code matrix_format: "csr"}):
   * {@code List<Struct<index: int32, value: T>>}, a row's non-zero entries in ascending
   * {@code index}. Null where a store lacks the element.
   */
  record Matrix(String name, ElementType type, Integer width, boolean sparse)
      implements OutputColumn {

    public Matrix(String name, ElementType type, Integer width) {
      this(name, type, width, false);
    }

    public static final String INDEX = "index";
    public static final String VALUE = "value";
    /** Field metadata of a sparse column: the row width (clients size their CSR matrices). */
    public static final String N_COLS = "annflight.n_cols";

    @Override
    public Field field() {
      if (sparse) {
        Field index = new Field(INDEX, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field value = new Field(VALUE, FieldType.notNullable(ArrowTypes.of(type)), null);
        Field entry = new Field(ITEM, FieldType.notNullable(ArrowType.Struct.INSTANCE),
            List.of(index, value));
        java.util.Map<String, String> metadata =
            width == null ? null : java.util.Map.of(N_COLS, Integer.toString(width));
        return new Field(name, new FieldType(true, ArrowType.List.INSTANCE, null, metadata),
            List.of(entry));
      }
      Field item = new Field(ITEM, FieldType.notNullable(ArrowTypes.of(type)), null);
      ArrowType listType =
          width == null ? ArrowType.List.INSTANCE : new ArrowType.FixedSizeList(width);
      return new Field(name, FieldType.nullable(listType), List.of(item));
    }
  }

  /**
   * An obs key. Encoded: {@code Dictionary<int32, V>} with the given dictionary id, whose
   * dictionary is the merged categories without the unknown label. Not encoded: plain V.
   */
  record Label(String name, LabelType valueType, boolean encoded, long dictionaryId)
      implements OutputColumn {
    @Override
    public Field field() {
      if (!encoded) {
        return new Field(name, FieldType.nullable(ArrowTypes.of(valueType)), null);
      }
      DictionaryEncoding enc =
          new DictionaryEncoding(dictionaryId, false, new ArrowType.Int(32, true));
      return new Field(name, new FieldType(true, new ArrowType.Int(32, true), enc), null);
    }
  }
}
