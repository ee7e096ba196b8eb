package io.annflight.arrow.compression;

import io.annflight.schema.Compression;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;

/** The Arrow IPC buffer codec for a request's {@link Compression}. */
public final class BatchCodecs implements CompressionCodec.Factory {
  /** zstd's fastest regular level: the server's CPU, not the wire, is what runs out. */
  static final int ZSTD_LEVEL = 1;

  public static final BatchCodecs INSTANCE = new BatchCodecs();

  private BatchCodecs() {}

  /** A new codec (codecs keep per-stream state: use one per stream, on one thread). */
  public static CompressionCodec forCompression(Compression compression) {
    return INSTANCE.createCodec(switch (compression) {
      case NONE -> CompressionUtil.CodecType.NO_COMPRESSION;
      case LZ4 -> CompressionUtil.CodecType.LZ4_FRAME;
      case ZSTD -> CompressionUtil.CodecType.ZSTD;
    });
  }

  /** Decoding side, for Arrow readers (tests, Java clients that bring their own loader). */
  @Override
  public CompressionCodec createCodec(CompressionUtil.CodecType codecType) {
    return switch (codecType) {
      case NO_COMPRESSION -> NoCompressionCodec.INSTANCE;
      case LZ4_FRAME -> new Lz4FrameCodec();
      case ZSTD -> new ZstdCodec(ZSTD_LEVEL);
    };
  }

  @Override
  public CompressionCodec createCodec(CompressionUtil.CodecType codecType, int level) {
    return codecType == CompressionUtil.CodecType.ZSTD ? new ZstdCodec(level)
        : createCodec(codecType);
  }
}
