package io.annflight.arrow;

import java.nio.ByteBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * Arrow buffers over a reader's read-only direct views (file mappings), so that rows stored
 * exactly as they are sent go to the codec or the network without being copied first. The
 * buffer holds the view, and with it the mapping, until Arrow releases the last reference,
 * whether that is the next batch replacing it or gRPC having sent it.
 */
final class MappedValues {
  private MappedValues() {}

  /** Whether {@code view} can be wrapped: direct, read-only, and holding {@code bytes}. */
  static boolean wrappable(ByteBuffer view, long bytes) {
    return view.isDirect() && view.isReadOnly() && view.capacity() >= bytes;
  }

  /** An Arrow buffer over the first {@code bytes} bytes of {@code view}, counted by allocator. */
  static ArrowBuf wrap(BufferAllocator allocator, ByteBuffer view, long bytes) {
    long address = MemoryUtil.getByteBufferAddress(view);
    return allocator.wrapForeignAllocation(new ForeignAllocation(bytes, address) {
      @SuppressWarnings("unused") // keeps the mapping reachable while Arrow uses its memory
      private ByteBuffer held = view;

      @Override
      protected void release0() {
        held = null;
      }
    });
  }
}
