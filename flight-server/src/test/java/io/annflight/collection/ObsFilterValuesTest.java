package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hashed filter values match exactly what comparing a label with each value in turn
 * ({@link ObsFilter#matches}, numpy's isin equality) matches, over labels and values of every
 * kind, including the numeric corners (-0.0, NaN, longs past 2^53).
 */
class ObsFilterValuesTest {
  private static final Object[] POOL = {null, "a", "b", "", "1", true, false, 0L, 1L, -1L, 2L,
      0.0, -0.0, 1.0, 1.5, Double.NaN, Double.POSITIVE_INFINITY, 9007199254740993L,
      9007199254740992.0, Long.MAX_VALUE, (double) Long.MAX_VALUE};

  @Test
  void hashedValuesMatchAsComparingOneByOneDoes() {
    Random random = new Random(11);
    for (int trial = 0; trial < 2000; trial++) {
      List<Object> values = new ArrayList<>();
      for (int i = random.nextInt(6); i > 0; i--) {
        values.add(POOL[random.nextInt(POOL.length)]);
      }
      ObsFilter.Values hashed = new ObsFilter.Values(values);
      for (Object label : POOL) {
        boolean oneByOne = values.stream().anyMatch(v -> ObsFilter.matches(label, v));
        assertThat(hashed.matches(label)).as("label %s among %s", label, values)
            .isEqualTo(oneByOne);
      }
    }
  }
}
