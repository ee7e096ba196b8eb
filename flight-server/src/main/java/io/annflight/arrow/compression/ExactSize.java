package io.annflight.arrow.compression;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Compressed buffers cut to their size. A codec must write into room for the worst case (the
 * input's size and more, which Arrow rounds up to a power of two: 16 MiB for an 8 MiB batch
 * column), but the result is usually a few per cent of it and stays allocated until gRPC has
 * sent it; holding the worst case per batch in flight would multiply the server's memory.
 */
final class ExactSize {
  private ExactSize() {}

  /** A new buffer holding bytes {@code [0, writerIndex)} of {@code scratch}. */
  static ArrowBuf copyOf(BufferAllocator allocator, ArrowBuf scratch) {
    long length = scratch.writerIndex();
    ArrowBuf out = allocator.buffer(length);
    out.setBytes(0, scratch, 0, length);
    out.writerIndex(length);
    return out;
  }
}
