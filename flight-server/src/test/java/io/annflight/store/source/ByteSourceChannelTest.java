package io.annflight.store.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import org.junit.jupiter.api.Test;

/** The read-only channel jhdf reads any byte source through (an object in a bucket). */
class ByteSourceChannelTest {

  /** Bytes in memory as a source, named like a file. */
  private record BytesSource(String name, byte[] data) implements ByteSource {
    @Override
    public long size() {
      return data.length;
    }

    @Override
    public Object identity() {
      return name;
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      if (position >= data.length) {
        return -1;
      }
      int n = (int) Math.min(dst.remaining(), data.length - position);
      dst.put(data, (int) position, n);
      return n;
    }

    @Override
    public void close() {}
  }

  @Test
  void readsByPositionAndRefusesMappingAndWriting() throws Exception {
    byte[] data = new byte[10_000];
    new java.util.Random(1).nextBytes(data);
    try (ByteSourceChannel ch = new ByteSourceChannel(new BytesSource("a.bin", data))) {
      assertThat(ch.size()).isEqualTo(10_000);
      ByteBuffer buf = ByteBuffer.allocate(100);
      assertThat(ch.read(buf, 9_950)).isEqualTo(50);
      assertThat(java.util.Arrays.copyOf(buf.array(), 50))
          .isEqualTo(java.util.Arrays.copyOfRange(data, 9_950, 10_000));
      assertThat(ch.read(ByteBuffer.allocate(1), 10_000)).isEqualTo(-1);
      ByteBuffer[] parts = {ByteBuffer.allocate(3), ByteBuffer.allocate(4)};
      assertThat(ch.read(parts, 0, 2)).isEqualTo(7);
      assertThat(ch.position()).isEqualTo(7);
      assertThat(parts[1].array()).isEqualTo(java.util.Arrays.copyOfRange(data, 3, 7));
      assertThatThrownBy(() -> ch.map(FileChannel.MapMode.READ_ONLY, 0, 10))
          .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("a.bin");
      assertThatThrownBy(() -> ch.write(ByteBuffer.allocate(1)))
          .isInstanceOf(NonWritableChannelException.class);
    }
  }
}
