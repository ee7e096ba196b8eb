package io.annflight.flight;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Waits for the JIT compiler to finish what the warm-up gave it. Compilations queued by the
 * last warm-up streams would otherwise run during the first client's epoch, on the cores that
 * epoch needs (on a 2-core machine the compiler takes one of them).
 */
final class JitSettling {
  private static final long POLL_MILLIS = 20;

  private JitSettling() {}

  /**
   * Returns once the JVM has spent no time compiling for {@code quiet}, or at
   * {@code deadlineNanos} ({@link System#nanoTime()}), whichever comes first; at once when the
   * JVM does not report its compilation time.
   *
   * @return whether the compiler was seen quiet
   */
  static boolean await(long deadlineNanos, Duration quiet) throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return false;
    }
    long last = jit.getTotalCompilationTime();
    long quietSince = System.nanoTime();
    while (System.nanoTime() < deadlineNanos) {
      Thread.sleep(POLL_MILLIS);
      long now = jit.getTotalCompilationTime();
      if (now != last) {
        last = now;
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince >= quiet.toNanos()) {
        return true;
      }
    }
    return false;
  }
}
