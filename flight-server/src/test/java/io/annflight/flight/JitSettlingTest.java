package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The warm-up's wait for the JIT ends at its deadline, or once the compiler is quiet. */
class JitSettlingTest {
  @Test
  void aPassedDeadlineEndsTheWaitAtOnce() throws Exception {
    assertThat(JitSettling.await(System.nanoTime() - 1, Duration.ofDays(1))).isFalse();
  }

  @Test
  void aCompilerQuietForNoTimeAtAllIsQuiet() throws Exception {
    boolean reported = ManagementFactory.getCompilationMXBean() != null
        && ManagementFactory.getCompilationMXBean().isCompilationTimeMonitoringSupported();
    assertThat(JitSettling.await(System.nanoTime() + Duration.ofMinutes(1).toNanos(),
        Duration.ZERO)).isEqualTo(reported);
  }
}
