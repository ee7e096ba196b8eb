package io.annflight.arrow.compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHashFactory;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.compression.AbstractCompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;

/**
 * Arrow IPC's {@code LZ4_FRAME} buffer codec over lz4-java's native block compressor, working
 * on the Arrow buffers' memory directly. Arrow Java's own LZ4 codec streams through
 * commons-compress in pure Java, an order of magnitude slower than the wire can carry.
 *
 * <p>Each buffer becomes one LZ4 frame (the format pyarrow and Arrow C++ read) of independent
 * blocks of at most 4 MiB, without checksums: the frame travels inside gRPC, which already
 * protects it. A block that does not shrink is stored raw, as the frame format allows.
 */
public final class Lz4FrameCodec extends AbstractCompressionCodec {
  private static final int MAGIC = 0x184D2204;
  /** Version 01, independent blocks, no block or content checksum, no content size. */
  private static final byte FLG = 0x60;
  /** Block maximum size 4 MiB. */
  private static final byte BD = 0x70;
  static final int BLOCK_SIZE = 4 << 20;
  private static final int HEADER_SIZE = 7;
  private static final int BLOCK_HEADER_SIZE = 4;
  private static final int END_MARK_SIZE = 4;
  private static final int UNCOMPRESSED_FLAG = 0x80000000;
  private static final byte HEADER_CHECKSUM = headerChecksum();

  private final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
  private final LZ4SafeDecompressor decompressor =
      LZ4Factory.fastestInstance().safeDecompressor();

  private static byte headerChecksum() {
    byte[] descriptor = {FLG, BD};
    int hash = XXHashFactory.fastestInstance().hash32().hash(descriptor, 0, 2, 0);
    return (byte) ((hash >> 8) & 0xFF);
  }

  /** The largest frame {@code length} bytes can become. */
  int maxFrameLength(long length) {
    long full = length / BLOCK_SIZE;
    int rest = (int) (length % BLOCK_SIZE);
    long bound = HEADER_SIZE + END_MARK_SIZE
        + full * (BLOCK_HEADER_SIZE + compressor.maxCompressedLength(BLOCK_SIZE))
        + (rest > 0 ? BLOCK_HEADER_SIZE + compressor.maxCompressedLength(rest) : 0);
    return Math.toIntExact(bound);
  }

  @Override
  protected ArrowBuf doCompress(BufferAllocator allocator, ArrowBuf uncompressed) {
    long length = uncompressed.writerIndex();
    int prefix = (int) CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH;
    ArrowBuf out = allocator.buffer(prefix + maxFrameLength(length));
    try {
      ByteBuffer dst = out.nioBuffer(0, (int) out.capacity()).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer src = uncompressed.nioBuffer(0, Math.toIntExact(length));
      int pos = prefix;
      dst.putInt(pos, MAGIC);
      dst.put(pos + 4, FLG);
      dst.put(pos + 5, BD);
      dst.put(pos + 6, HEADER_CHECKSUM);
      pos += HEADER_SIZE;
      for (int start = 0; start < length; start += BLOCK_SIZE) {
        int n = (int) Math.min(BLOCK_SIZE, length - start);
        int body = pos + BLOCK_HEADER_SIZE;
        int packed = compressor.compress(src, start, n, dst, body, dst.capacity() - body);
        if (packed >= n) {
          // Incompressible: the frame format stores the block as is.
          ByteBuffer raw = src.duplicate().position(start).limit(start + n);
          dst.put(body, raw, 0, n);
          dst.putInt(pos, n | UNCOMPRESSED_FLAG);
          pos = body + n;
        } else {
          dst.putInt(pos, packed);
          pos = body + packed;
        }
      }
      dst.putInt(pos, 0);
      pos += END_MARK_SIZE;
      out.writerIndex(pos);
      return ExactSize.copyOf(allocator, out);
    } finally {
      out.close();
    }
  }

  @Override
  protected ArrowBuf doDecompress(BufferAllocator allocator, ArrowBuf compressed) {
    int prefix = (int) CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH;
    long length = readUncompressedLength(compressed);
    ArrowBuf out = allocator.buffer(length);
    try {
      ByteBuffer src = compressed.nioBuffer(0, Math.toIntExact(compressed.writerIndex()))
          .order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer dst = out.nioBuffer(0, Math.toIntExact(length));
      int pos = prefix;
      if (src.getInt(pos) != MAGIC) {
        throw new IllegalArgumentException("not an LZ4 frame: bad magic number");
      }
      int flg = src.get(pos + 4);
      if ((flg & 0xC0) != 0x40 || (flg & 0x01) != 0) {
        throw new IllegalArgumentException("unsupported LZ4 frame flags " + flg);
      }
      pos += HEADER_SIZE + ((flg & 0x08) != 0 ? 8 : 0);
      boolean blockChecksum = (flg & 0x10) != 0;
      boolean linked = (flg & 0x20) == 0;
      int written = 0;
      while (true) {
        int size = src.getInt(pos);
        pos += BLOCK_HEADER_SIZE;
        if (size == 0) {
          break;
        }
        int n = size & ~UNCOMPRESSED_FLAG;
        if ((size & UNCOMPRESSED_FLAG) != 0) {
          dst.put(written, src, pos, n);
          written += n;
        } else {
          written += decompressBlock(src, pos, n, dst, written, (int) length - written, linked);
        }
        pos += n + (blockChecksum ? 4 : 0);
      }
      if (written != length) {
        throw new IllegalArgumentException("LZ4 frame holds " + written
            + " bytes, its buffer header says " + length);
      }
      out.writerIndex(length);
      return out;
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  /**
   * One block. lz4-java decodes each block on its own, so a block of a linked frame (LZ4F's
   * default, which Arrow C++ and pyarrow write) that refers back into the block before it
   * cannot be decoded; say so instead of passing on lz4-java's bare offset error.
   */
  private int decompressBlock(ByteBuffer src, int pos, int n, ByteBuffer dst, int written,
      int room, boolean linked) {
    try {
      return decompressor.decompress(src, pos, n, dst, written, room);
    } catch (LZ4Exception e) {
      if (linked && written > 0) {
        throw new IllegalArgumentException("LZ4 frame with linked blocks: the block at output "
            + "offset " + written + " cannot be decoded on its own (this decoder reads frames "
            + "of independent blocks, as annflight writes them)", e);
      }
      throw e;
    }
  }

  @Override
  public CompressionUtil.CodecType getCodecType() {
    return CompressionUtil.CodecType.LZ4_FRAME;
  }
}
