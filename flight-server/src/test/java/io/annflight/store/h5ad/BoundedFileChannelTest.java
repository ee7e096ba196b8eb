package io.annflight.store.h5ad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mappings handed to jhdf are views of the file's windows: every view holds the file's bytes at
 * its position, inside a window, across a window's edge and past the overlap; requests past the
 * end are refused, also once a file is truncated under a mapped window.
 */
class BoundedFileChannelTest {
  private static final int WINDOW = 64 << 10;
  private static final int OVERLAP = 16 << 10;

  @TempDir Path tmp;

  private Path file(int size) throws IOException {
    byte[] bytes = new byte[size];
    new Random(1).nextBytes(bytes);
    return Files.write(tmp.resolve("f.bin"), bytes);
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void everyMappingHoldsTheFilesBytesAtItsPosition() throws IOException {
    Path f = file(300_000);
    byte[] want = Files.readAllBytes(f);
    try (BoundedFileChannel ch = new BoundedFileChannel(
        FileChannel.open(f, StandardOpenOption.READ), WINDOW, OVERLAP)) {
      long[][] requests = {{0, 100}, {WINDOW - 10, 20}, {WINDOW - 1, OVERLAP}, {WINDOW, 1},
          {3L * WINDOW + 5, OVERLAP}, {WINDOW - 100, OVERLAP + 200}, {299_000, 1000},
          {123_456, 0}, {0, 300_000}};
      for (long[] r : requests) {
        MappedByteBuffer m = ch.map(MapMode.READ_ONLY, r[0], r[1]);
        assertThat(m.position()).isZero();
        assertThat(m.remaining()).isEqualTo((int) r[1]);
        assertThat(bytes(m)).as("bytes %d + %d", r[0], r[1])
            .isEqualTo(Arrays.copyOfRange(want, (int) r[0], (int) (r[0] + r[1])));
      }
      assertThatThrownBy(() -> ch.map(MapMode.READ_ONLY, 299_999, 2))
          .isInstanceOf(IOException.class).hasMessageContaining("passes the end of the file");
    }
  }

  @Test
  void aFileTruncatedUnderAWindowIsNotMappedPastItsNewEnd() throws IOException {
    Path f = file(200_000);
    byte[] want = Files.readAllBytes(f);
    try (BoundedFileChannel ch = new BoundedFileChannel(
        FileChannel.open(f, StandardOpenOption.READ), WINDOW, OVERLAP)) {
      ch.map(MapMode.READ_ONLY, 150_000, 8192); // the window is mapped
      try (FileChannel w = FileChannel.open(f, StandardOpenOption.WRITE)) {
        w.truncate(100_000);
      }
      // The window still covers the old length, but views are only given inside the file.
      assertThatThrownBy(() -> ch.map(MapMode.READ_ONLY, 150_000, 8192))
          .isInstanceOf(IOException.class).hasMessageContaining("passes the end of the file");
      assertThatThrownBy(() -> ch.map(MapMode.READ_ONLY, 99_000, 2000))
          .isInstanceOf(IOException.class).hasMessageContaining("(100000 bytes)");
      assertThat(bytes(ch.map(MapMode.READ_ONLY, 90_000, 10_000)))
          .isEqualTo(Arrays.copyOfRange(want, 90_000, 100_000));
    }
  }
}
