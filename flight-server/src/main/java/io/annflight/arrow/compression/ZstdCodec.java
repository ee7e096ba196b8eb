package io.annflight.arrow.compression;

import com.github.luben.zstd.Zstd;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.compression.AbstractCompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;

/** Arrow IPC's {@code ZSTD} buffer codec over zstd-jni, on the Arrow buffers' memory. */
public final class ZstdCodec extends AbstractCompressionCodec {
  private final int level;

  public ZstdCodec(int level) {
    this.level = level;
  }

  @Override
  protected ArrowBuf doCompress(BufferAllocator allocator, ArrowBuf uncompressed) {
    long prefix = CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH;
    long length = uncompressed.writerIndex();
    long bound = Zstd.compressBound(length);
    ArrowBuf out = allocator.buffer(prefix + bound);
    try {
      long packed = Zstd.compressUnsafe(out.memoryAddress() + prefix, bound,
          uncompressed.memoryAddress(), length, level);
      if (Zstd.isError(packed)) {
        throw new IllegalStateException("zstd compression failed: "
            + Zstd.getErrorName(packed));
      }
      out.writerIndex(prefix + packed);
      return ExactSize.copyOf(allocator, out);
    } finally {
      out.close();
    }
  }

  @Override
  protected ArrowBuf doDecompress(BufferAllocator allocator, ArrowBuf compressed) {
    long prefix = CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH;
    long length = readUncompressedLength(compressed);
    ArrowBuf out = allocator.buffer(length);
    try {
      long n = Zstd.decompressUnsafe(out.memoryAddress(), length,
          compressed.memoryAddress() + prefix, compressed.writerIndex() - prefix);
      if (Zstd.isError(n)) {
        throw new IllegalArgumentException("zstd decompression failed: "
            + Zstd.getErrorName(n));
      }
      if (n != length) {
        throw new IllegalArgumentException("zstd frame holds " + n
            + " bytes, its buffer header says " + length);
      }
      out.writerIndex(length);
      return out;
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  @Override
  public CompressionUtil.CodecType getCodecType() {
    return CompressionUtil.CodecType.ZSTD;
  }
}
