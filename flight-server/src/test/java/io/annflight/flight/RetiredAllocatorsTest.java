package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * An ended stream's allocator stays open while something (gRPC's queue) still holds its
 * buffers, and closes, without a leak report, once they are back; one with nothing out closes
 * at once.
 */
class RetiredAllocatorsTest {

  @Test
  void anAllocatorWithBuffersOutClosesOnceTheyAreReleased() {
    try (RootAllocator root = new RootAllocator();
        RetiredAllocators retired = new RetiredAllocators()) {
      BufferAllocator stream = root.newChildAllocator("stream-1", 0, Long.MAX_VALUE);
      ArrowBuf held = stream.buffer(1 << 20); // what the network still holds
      retired.retire(stream, "stream-1");
      retired.sweep();
      assertThat(retired.draining()).isEqualTo(1);
      assertThat(root.getChildAllocators()).contains(stream);

      held.close(); // gRPC wrote or dropped the batch
      retired.sweep();
      assertThat(retired.draining()).isZero();
      assertThat(root.getChildAllocators()).doesNotContain(stream);
      assertThat(root.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void anAllocatorWithNothingOutClosesAtOnce() {
    try (RootAllocator root = new RootAllocator();
        RetiredAllocators retired = new RetiredAllocators()) {
      BufferAllocator stream = root.newChildAllocator("stream-2", 0, Long.MAX_VALUE);
      stream.buffer(64).close();
      retired.retire(stream, "stream-2");
      assertThat(retired.draining()).isZero();
      assertThat(root.getChildAllocators()).isEmpty();
    }
  }
}
