package io.annflight.store.anndata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Stored sparse indices are converted and checked against the minor axis, every one of them. */
class IntegerColumnsTest {
  private static final Path FILE = Path.of("m.h5ad");

  private static TypedBuffer int32(ByteOrder order, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(order);
    for (int i = 0; i < values.length; i++) {
      b.putInt(i * 4, values[i]);
    }
    return new TypedBuffer(ElementType.INT32, b, values.length);
  }

  private static TypedBuffer int64(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      b.putLong(i * 8, values[i]);
    }
    return new TypedBuffer(ElementType.INT64, b, values.length);
  }

  @Test
  void indicesInsideTheAxisAreReturnedAsStored() {
    int[] many = new int[1000];
    for (int i = 0; i < many.length; i++) {
      many[i] = (i * 37) % 30;
    }
    for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
      assertThat(IntegerColumns.toIndices(int32(order, many), 30, FILE, "X/indices"))
          .containsExactly(many);
    }
    assertThat(IntegerColumns.toIndices(int64(0, 29, 7), 30, FILE, "X/indices"))
        .containsExactly(0, 29, 7);
    assertThat(IntegerColumns.toIndices(int32(ByteOrder.LITTLE_ENDIAN), 0, FILE, "X/indices"))
        .isEmpty();
  }

  @Test
  void anyIndexOutsideTheAxisIsNamed() {
    int[] many = new int[1000];
    for (int[] bad : new int[][] {{500, 30}, {999, -1}, {0, Integer.MIN_VALUE},
        {3, Integer.MAX_VALUE}}) {
      int[] values = many.clone();
      values[bad[0]] = bad[1];
      assertThatThrownBy(() -> IntegerColumns.toIndices(int32(ByteOrder.LITTLE_ENDIAN, values),
          30, FILE, "X/indices"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("m.h5ad").hasMessageContaining("X/indices")
          .hasMessageContaining("index " + bad[1]).hasMessageContaining("[0, 30)");
    }
    assertThatThrownBy(() -> IntegerColumns.toIndices(int32(ByteOrder.BIG_ENDIAN, 0), 0, FILE,
        "X/indices")).isInstanceOf(MalformedStoreException.class).hasMessageContaining("[0, 0)");
    assertThatThrownBy(() -> IntegerColumns.toIndices(int64(1L << 40), 30, FILE, "X/indices"))
        .isInstanceOf(MalformedStoreException.class).hasMessageContaining("1099511627776");
  }
}
