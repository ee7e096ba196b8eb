package io.annflight.store.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A local file as a byte source, and the read-only channel over any source. */
class LocalFileSourceTest {
  @TempDir
  Path tmp;

  @Test
  void readsByPositionAndAReplacedFileIsAnotherIdentity() throws Exception {
    Path f = tmp.resolve("a.bin");
    byte[] data = new byte[10_000];
    new java.util.Random(1).nextBytes(data);
    Files.write(f, data);
    try (LocalFileSource a = LocalFileSource.open(f);
        ByteSourceChannel ch = new ByteSourceChannel(a)) {
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
      Path b = tmp.resolve("b.bin");
      Files.write(b, data);
      Files.move(b, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      try (LocalFileSource replaced = LocalFileSource.open(f)) {
        assertThat(replaced.identity()).isNotEqualTo(a.identity());
      }
    }
  }
}
