package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.RequestException;
import io.annflight.schema.RowSelection.Range;
import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointPlannerTest {
  private final EndpointPlanner planner = new EndpointPlanner(100);

  @Test
  void oneEndpointPerStoreByDefault() {
    assertThat(planner.plan(new long[] {30, 70, 100}, null))
        .containsExactly(new Range(0, 30), new Range(30, 100), new Range(100, 200));
  }

  @Test
  void largeStoresAreSplitIntoNearEqualPiecesWithinTheStore() {
    // 250 rows with a cap of 100: three pieces 84, 83, 83, then the next store starts at 260.
    assertThat(planner.plan(new long[] {10, 250, 5}, null))
        .containsExactly(new Range(0, 10), new Range(10, 94), new Range(94, 177),
            new Range(177, 260), new Range(260, 265));
  }

  @Test
  void emptyStoresGetNoEndpoint() {
    assertThat(planner.plan(new long[] {0, 5, 0, 3}, null))
        .containsExactly(new Range(0, 5), new Range(5, 8));
    assertThat(planner.plan(new long[] {0, 0}, null)).isEmpty();
    assertThat(planner.plan(new long[] {}, null)).isEmpty();
  }

  @Test
  void rowsPerEndpointCutsTheWholeSpaceIgnoringStores() {
    assertThat(planner.plan(new long[] {30, 70, 5}, 40L))
        .containsExactly(new Range(0, 40), new Range(40, 80), new Range(80, 105));
    // Larger than the default cap is allowed when asked for.
    assertThat(planner.plan(new long[] {150, 150}, 1000L)).containsExactly(new Range(0, 300));
  }

  @Test
  void rangesCoverTheIndexSpaceInOrderWithoutGaps() {
    long[] stores = {1, 99, 100, 101, 0, 999, 7};
    for (Long rpe : new Long[] {null, 1L, 3L, 100L, 5000L}) {
      List<Range> ranges = planner.plan(stores, rpe);
      long next = 0;
      for (Range r : ranges) {
        assertThat(r.start()).isEqualTo(next);
        assertThat(r.stop()).isGreaterThan(r.start());
        assertThat(r.count()).isLessThanOrEqualTo(rpe == null ? 100 : rpe);
        next = r.stop();
      }
      assertThat(next).isEqualTo(1307);
    }
  }

  @Test
  void tooManyEndpointsIsABadRequest() {
    assertThatThrownBy(() -> planner.plan(new long[] {EndpointPlanner.MAX_ENDPOINTS * 3}, 1L))
        .isInstanceOf(RequestException.class).hasMessageContaining("rows_per_endpoint=1")
        .hasMessageContaining("at least 3 rows per endpoint");
  }

  @Test
  void theCapMustBePositive() {
    assertThatThrownBy(() -> new EndpointPlanner(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
