package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * An ended stream's allocator stays open while something (gRPC's queue) still holds its
 * buffers, and closes, without a leak report, when the last of them is released; one with
 * nothing out closes at once. Every release is told (it is what budget waits wait for).
 */
class StreamAllocatorsTest {

  @Test
  void anAllocatorWithBuffersOutClosesWhenTheLastIsReleased() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    try (RootAllocator root = new RootAllocator()) {
      StreamAllocators streams = new StreamAllocators(root.newChildAllocator("streams", 0, Long.MAX_VALUE), releases::incrementAndGet);
      BufferAllocator stream = streams.open("stream-1");
      ArrowBuf first = stream.buffer(1 << 20); // what the network still holds
      ArrowBuf last = stream.buffer(1 << 10);
      assertThat(streams.allocated()).isEqualTo((1 << 20) + (1 << 10));
      streams.retire(stream);
      assertThat(streams.draining()).isEqualTo(1);

      first.close();
      assertThat(releases.get()).isEqualTo(1);
      assertThat(streams.draining()).isEqualTo(1);
      last.close(); // gRPC wrote or dropped the last batch
      assertThat(releases.get()).isEqualTo(2);
      awaitDrained(streams);
      assertThat(streams.allocated()).isZero();
      streams.close();
      assertThat(root.getChildAllocators()).isEmpty();
    }
  }

  @Test
  void anAllocatorWithNothingOutClosesAtOnce() {
    try (RootAllocator root = new RootAllocator()) {
      StreamAllocators streams = new StreamAllocators(root.newChildAllocator("streams", 0, Long.MAX_VALUE), () -> {});
      BufferAllocator stream = streams.open("stream-2");
      stream.buffer(64).close();
      streams.retire(stream);
      assertThat(streams.draining()).isZero();
      streams.close();
      assertThat(root.getChildAllocators()).isEmpty();
    }
  }

  @Test
  void onlyItsOwnAllocatorsCanBeRetired() {
    try (RootAllocator root = new RootAllocator();
        BufferAllocator foreign = root.newChildAllocator("foreign", 0, Long.MAX_VALUE)) {
      StreamAllocators streams = new StreamAllocators(root.newChildAllocator("streams", 0, Long.MAX_VALUE), () -> {});
      assertThatThrownBy(() -> streams.retire(foreign))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("foreign");
      streams.close();
    }
  }

  /**
   * The close runs on the allocators' own thread: wait for it, bounded but generously (a busy
   * machine may be slow to run it; the wait ends as soon as it has).
   */
  private static void awaitDrained(StreamAllocators streams) throws InterruptedException {
    CountDownLatch never = new CountDownLatch(1);
    for (int i = 0; i < 6_000 && streams.draining() > 0; i++) {
      never.await(10, TimeUnit.MILLISECONDS);
    }
    assertThat(streams.draining()).isZero();
  }
}
