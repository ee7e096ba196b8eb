package io.annflight.arrow.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.compression.AbstractCompressionCodec;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil.CodecType;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The IPC buffer codecs against independent implementations: lz4-java's frame streams and
 * zstd-jni's byte[] API decode what ours write (and ours decode what they write), at the sizes
 * where the LZ4 frame's 4 MiB block boundary matters, and Arrow's own stream writer and reader
 * round-trip record batches through them.
 */
class BatchCodecsTest {
  private static final int MIB4 = 4 << 20;
  /** Arrow's marker for a buffer sent uncompressed because compressing did not shrink it. */
  private static final long RAW = -1L;

  BufferAllocator allocator;

  @BeforeEach
  void open() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void close() {
    assertThat(allocator.getAllocatedMemory()).isZero();
    allocator.close();
  }

  // ---------------------------------------------------------------- data

  /** Little-endian floats, one in 16 non-zero (expression-matrix-like), cut to {@code n}. */
  private static byte[] mostlyZeroFloats(int n, long seed) {
    Random rnd = new Random(seed);
    ByteBuffer b = ByteBuffer.allocate(n + 3).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 4 <= b.capacity(); i += 4) {
      b.putFloat(i, rnd.nextInt(16) == 0 ? rnd.nextInt(50) : 0f);
    }
    return Arrays.copyOf(b.array(), n);
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The first 4 MiB random (a block LZ4 cannot shrink), the rest zeros. */
  private static byte[] randomBlockThenZeros(int n) {
    byte[] b = new byte[n];
    byte[] head = random(MIB4, 7);
    System.arraycopy(head, 0, b, 0, MIB4);
    return b;
  }

  private static List<byte[]> compressibleCases() {
    return List.of(mostlyZeroFloats(1, 1), mostlyZeroFloats(MIB4, 2),
        mostlyZeroFloats(MIB4 + 1, 3), mostlyZeroFloats(9_000_000, 4),
        randomBlockThenZeros(9_000_000));
  }

  private ArrowBuf buf(byte[] data) {
    ArrowBuf b = allocator.buffer(Math.max(1, data.length));
    b.setBytes(0, data);
    b.writerIndex(data.length);
    return b;
  }

  private static byte[] bytes(ArrowBuf b, long from) {
    byte[] out = new byte[Math.toIntExact(b.writerIndex() - from)];
    b.getBytes(from, out);
    return out;
  }

  // ---------------------------------------------------------------- LZ4

  @Test
  void lz4FramesDecodeWithLz4JavasFrameReaderAndWithOurOwnDecoder() throws IOException {
    Lz4FrameCodec codec = new Lz4FrameCodec();
    for (byte[] data : compressibleCases()) {
      try (ArrowBuf in = buf(data); ArrowBuf frame = codec.doCompress(allocator, in)) {
        byte[] body = bytes(frame, 8);
        try (LZ4FrameInputStream lz4 = new LZ4FrameInputStream(new ByteArrayInputStream(body))) {
          assertThat(lz4.readAllBytes()).as("lz4-java, %d bytes", data.length).isEqualTo(data);
        }
        // compress() writes the uncompressed length in front; doDecompress reads it (and,
        // unlike decompress(), leaves its argument open).
        frame.setLong(0, data.length);
        try (ArrowBuf out = codec.doDecompress(allocator, frame)) {
          assertThat(bytes(out, 0)).as("ours, %d bytes", data.length).isEqualTo(data);
        }
      }
    }
  }

  @Test
  void aBlockLz4CannotShrinkTravelsRawInsideTheFrame() throws IOException {
    byte[] data = randomBlockThenZeros(9_000_000);
    Lz4FrameCodec codec = new Lz4FrameCodec();
    try (ArrowBuf in = buf(data); ArrowBuf frame = codec.doCompress(allocator, in)) {
      ByteBuffer f = ByteBuffer.wrap(bytes(frame, 8)).order(ByteOrder.LITTLE_ENDIAN);
      assertThat(f.getInt(0)).isEqualTo(0x184D2204);
      // Block 1: the flag bit says "stored", its size is the whole 4 MiB block.
      assertThat(f.getInt(7)).isEqualTo(0x80000000 | MIB4);
      // Block 2 (4 MiB of zeros) is compressed.
      int second = f.getInt(7 + 4 + MIB4);
      assertThat(second & 0x80000000).isZero();
      assertThat(second).isLessThan(MIB4 / 100);
      assertThat(f.limit()).isLessThan(data.length);
    }
  }

  @Test
  void lz4FramesFromLz4JavasWriterDecodeWithOurDecoder() throws IOException {
    byte[] data = mostlyZeroFloats(MIB4 + 1, 5);
    // Block checksums, content size and content checksum: what our decoder must skip over.
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (LZ4FrameOutputStream out = new LZ4FrameOutputStream(sink,
        LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, data.length,
        LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
        LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM,
        LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE,
        LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
      out.write(data);
    }
    assertThat(decodeWith(new Lz4FrameCodec(), sink.toByteArray(), data.length))
        .isEqualTo(data);
  }

  @Test
  void aLinkedBlockReferringToTheBlockBeforeItIsRefusedByName() {
    // A linked frame (FLG 0x40: version 01, blocks not independent) built by hand: block 1
    // stores 16 bytes raw, block 2 copies them (a 16-byte match at offset 16, i.e. into block
    // 1) and ends with 5 literals. Valid LZ4 decoding to 37 bytes, which lz4-java's per-block
    // decoder cannot follow (liblz4, through python-lz4 4.0.2, decodes it to
    // "ABCDEFGHIJKLMNOP" twice then "QRSTU").
    byte[] head = "ABCDEFGHIJKLMNOP".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] block2 = {0x0C, 16, 0, 0x50, 'Q', 'R', 'S', 'T', 'U'};
    int hc = (net.jpountz.xxhash.XXHashFactory.fastestInstance().hash32()
        .hash(new byte[] {0x40, 0x70}, 0, 2, 0) >> 8) & 0xFF;
    ByteBuffer f = ByteBuffer.allocate(8 + 7 + 4 + 16 + 4 + block2.length + 4)
        .order(ByteOrder.LITTLE_ENDIAN);
    f.putLong(37).putInt(0x184D2204).put((byte) 0x40).put((byte) 0x70).put((byte) hc);
    f.putInt(0x80000000 | 16).put(head).putInt(block2.length).put(block2).putInt(0);
    Lz4FrameCodec codec = new Lz4FrameCodec();
    try (ArrowBuf in = allocator.buffer(f.capacity())) {
      in.setBytes(0, f.array());
      in.writerIndex(f.capacity());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> codec.doDecompress(allocator, in))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("linked blocks").hasMessageContaining("offset 16");
    }
  }

  // ---------------------------------------------------------------- ZSTD

  @Test
  void zstdFramesDecodeWithZstdJniAndZstdJniFramesWithOurDecoder() {
    ZstdCodec codec = new ZstdCodec(BatchCodecs.ZSTD_LEVEL);
    for (byte[] data : compressibleCases()) {
      try (ArrowBuf in = buf(data); ArrowBuf frame = codec.doCompress(allocator, in)) {
        assertThat(Zstd.decompress(bytes(frame, 8), data.length))
            .as("zstd-jni, %d bytes", data.length).isEqualTo(data);
      }
      assertThat(decodeWith(codec, Zstd.compress(data, 3), data.length))
          .as("ours, %d bytes", data.length).isEqualTo(data);
    }
  }

  /** Our decoder over a frame another implementation wrote, behind Arrow's length prefix. */
  private byte[] decodeWith(AbstractCompressionCodec codec, byte[] frame, long length) {
    ArrowBuf in = allocator.buffer(8 + frame.length);
    in.setLong(0, length);
    in.setBytes(8, frame);
    in.writerIndex(8 + frame.length);
    try (ArrowBuf out = codec.decompress(allocator, in)) {
      return bytes(out, 0);
    }
  }

  // ---------------------------------------------------------------- Arrow's codec contract

  @Test
  void compressedBuffersHoldTheirSizeNotTheWorstCase() {
    // An 8 MiB batch column, 95 % zeros: the worst-case room Arrow rounds to 16 MiB must not
    // stay allocated while the compressed batch waits to be sent.
    byte[] data = mostlyZeroFloats(8 << 20, 11);
    Lz4FrameCodec lz4 = new Lz4FrameCodec();
    ZstdCodec zstd = new ZstdCodec(1);
    for (java.util.function.Function<ArrowBuf, ArrowBuf> compress : List.<
        java.util.function.Function<ArrowBuf, ArrowBuf>>of(
            b -> lz4.doCompress(allocator, b), b -> zstd.doCompress(allocator, b))) {
      try (ArrowBuf in = buf(data); ArrowBuf frame = compress.apply(in)) {
        assertThat(frame.capacity())
            .isLessThanOrEqualTo(Long.highestOneBit(frame.writerIndex()) * 2)
            .isLessThan(data.length / 4);
        assertThat(allocator.getAllocatedMemory()).isEqualTo(in.capacity() + frame.capacity());
      }
    }
  }

  @Test
  void publicCompressAndDecompressRoundTripEveryCaseForBothCodecs() {
    for (CodecType type : List.of(CodecType.LZ4_FRAME, CodecType.ZSTD)) {
      CompressionCodec codec = BatchCodecs.INSTANCE.createCodec(type);
      assertThat(codec.getCodecType()).isEqualTo(type);
      byte[] noise = random(MIB4 + 1, 9);
      List<byte[]> cases = new ArrayList<>(compressibleCases());
      cases.add(noise);
      cases.add(new byte[0]);
      for (byte[] data : cases) {
        // A frame around one byte or around random bytes is larger than they are.
        boolean raw = data.length == 1 || data == noise;
        String what = type + ", " + data.length + " bytes";
        // compress and decompress take ownership of their argument.
        ArrowBuf packed = codec.compress(allocator, buf(data));
        if (data.length == 0) {
          assertThat(packed.getLong(0)).as(what).isZero();
          assertThat(packed.writerIndex()).as(what).isEqualTo(8);
        } else if (raw) {
          assertThat(packed.getLong(0)).as(what).isEqualTo(RAW);
          assertThat(bytes(packed, 8)).as(what).isEqualTo(data);
        } else {
          assertThat(packed.getLong(0)).as(what).isEqualTo(data.length);
          assertThat(packed.writerIndex() - 8).as(what).isLessThan(data.length);
        }
        try (ArrowBuf out = codec.decompress(allocator, packed)) {
          assertThat(bytes(out, 0)).as(what).isEqualTo(data);
        }
      }
    }
  }

  // ---------------------------------------------------------------- IPC round trip

  private static final int ROWS = 2_000;
  private static final int WIDTH = 64;

  @Test
  void arrowStreamsRoundTripThroughEachCodecAndShrink() throws IOException {
    byte[] plain = writeStream(null);
    List<String> expected = readStream(plain);
    assertThat(expected).hasSize(ROWS);
    for (CodecType type : List.of(CodecType.LZ4_FRAME, CodecType.ZSTD)) {
      byte[] packed = writeStream(type);
      assertThat(readStream(packed)).as(type.name()).isEqualTo(expected);
      assertThat(packed.length).as(type.name()).isLessThan(plain.length / 4);
    }
  }

  /** Two batches of a FixedSizeList<float32> column (mostly zeros) and a dictionary column. */
  private byte[] writeStream(CodecType type) throws IOException {
    Field cellType = new Field("cell_type", new FieldType(true, new ArrowType.Int(32, true),
        new DictionaryEncoding(1, false, null)), null);
    Field x = new Field("X", FieldType.notNullable(new ArrowType.FixedSizeList(WIDTH)),
        List.of(Field.notNullable("item",
            new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE))));
    Schema schema = new Schema(List.of(x, cellType));
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (VarCharVector labels = new VarCharVector("labels", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      String[] names = {"B cell", "T cell", "monocyte"};
      labels.allocateNew();
      for (int i = 0; i < names.length; i++) {
        labels.setSafe(i, names[i].getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      labels.setValueCount(names.length);
      DictionaryProvider.MapDictionaryProvider dicts = new DictionaryProvider.MapDictionaryProvider();
      dicts.put(new Dictionary(labels, cellType.getDictionary()));
      ArrowStreamWriter writer = type == null
          ? new ArrowStreamWriter(root, dicts, Channels.newChannel(sink))
          : new ArrowStreamWriter(root, dicts, Channels.newChannel(sink), IpcOption.DEFAULT,
              BatchCodecs.INSTANCE, type);
      try (writer) {
        writer.start();
        Random rnd = new Random(42);
        for (int batch = 0; batch < 2; batch++) {
          fill(root, rnd);
          writer.writeBatch();
        }
        writer.end();
      }
    }
    return sink.toByteArray();
  }

  private static void fill(VectorSchemaRoot root, Random rnd) {
    FixedSizeListVector x = (FixedSizeListVector) root.getVector("X");
    IntVector cellType = (IntVector) root.getVector("cell_type");
    root.allocateNew();
    Float4Vector values = (Float4Vector) x.getDataVector();
    for (int r = 0; r < ROWS / 2; r++) {
      x.setNotNull(r);
      for (int j = 0; j < WIDTH; j++) {
        values.setSafe(r * WIDTH + j, rnd.nextInt(16) == 0 ? rnd.nextInt(50) : 0f);
      }
      if (r % 7 == 0) {
        cellType.setNull(r);
      } else {
        cellType.setSafe(r, rnd.nextInt(3));
      }
    }
    values.setValueCount(ROWS / 2 * WIDTH);
    root.setRowCount(ROWS / 2);
  }

  /** Every row as "x0,x1,...|label", dictionary indices decoded. */
  private List<String> readStream(byte[] ipc) throws IOException {
    List<String> rows = new ArrayList<>();
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(ipc),
        allocator, BatchCodecs.INSTANCE)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      while (reader.loadNextBatch()) {
        FieldVector cellType = root.getVector("cell_type");
        Dictionary dict = reader.getDictionaryVectors()
            .get(cellType.getField().getDictionary().getId());
        for (int r = 0; r < root.getRowCount(); r++) {
          Object index = cellType.getObject(r);
          rows.add(root.getVector("X").getObject(r) + "|"
              + (index == null ? null : dict.getVector().getObject((Integer) index)));
        }
      }
    }
    return rows;
  }
}
