package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.junit.jupiter.api.Test;

/** Stream permits: the global and the per-client limit, named when refused, given back once. */
class StreamLimitsTest {

  @Test
  void limitsAreCountedGloballyAndPerClientAndNamedWhenReached() {
    StreamLimits limits = new StreamLimits(3, 2);
    StreamLimits.Permit a1 = limits.acquire("alice");
    StreamLimits.Permit a2 = limits.acquire("alice");
    assertThatThrownBy(() -> limits.acquire("alice"))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(((FlightRuntimeException) e).status().code())
            .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("--max-streams-per-client");
    StreamLimits.Permit b1 = limits.acquire("bob");
    assertThatThrownBy(() -> limits.acquire("carol"))
        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("--max-streams");
    assertThat(limits.running()).isEqualTo(3);
    a1.close();
    a1.close(); // once only
    assertThat(limits.running()).isEqualTo(2);
    StreamLimits.Permit a3 = limits.acquire("alice");
    a2.close();
    a3.close();
    b1.close();
    assertThat(limits.running()).isZero();
  }

  @Test
  void zeroMeansNoLimit() {
    StreamLimits none = StreamLimits.NONE;
    for (int i = 0; i < 100; i++) {
      none.acquire(null);
    }
    assertThat(none.running()).isEqualTo(100);
  }
}
