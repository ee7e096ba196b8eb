package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.FlightCallHeaders;
import org.apache.arrow.flight.FlightMethod;
import org.apache.arrow.flight.RequestContext;
import org.junit.jupiter.api.Test;

/**
 * The {@code annflight-shared-memory} header reaches a DoGet's stream only when the server
 * runs with shared memory; other calls never take it. (Whether the named file is used is
 * RingFile's decision, tested there and end to end.)
 */
class SharedMemoryHeaderTest {
  private static final String RING = "/dev/shm/annflight-0123456789abcdef0123456789abcdef";

  private static String named(boolean enabled, FlightMethod method, String value) {
    CallHeaders headers = new FlightCallHeaders();
    if (value != null) {
      headers.insert(SharedMemoryHeader.NAME, value);
    }
    RequestContext context = new RequestContext() {
      @Override
      public void put(String key, String value) {}

      @Override
      public String get(String key) {
        return null;
      }

      @Override
      public java.util.Set<String> keySet() {
        return java.util.Set.of();
      }

      @Override
      public String remove(String key) {
        return null;
      }
    };
    return SharedMemoryHeader.factory(enabled).onCallStarted(new CallInfo(method), headers,
        context).path();
  }

  @Test
  void aDoGetTakesTheNamedRingWhenEnabled() {
    assertThat(named(true, FlightMethod.DO_GET, RING)).isEqualTo(RING);
    assertThat(named(true, FlightMethod.DO_GET, null)).isNull();
  }

  @Test
  void withSharedMemoryDisabledNoStreamIsAsked() {
    assertThat(named(false, FlightMethod.DO_GET, RING)).isNull();
  }

  @Test
  void otherCallsNeverTakeIt() {
    for (FlightMethod m : FlightMethod.values()) {
      if (m != FlightMethod.DO_GET) {
        assertThat(named(true, m, RING)).as(m.name()).isNull();
      }
    }
  }
}
