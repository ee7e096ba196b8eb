package io.annflight.runtime.shm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Ring files as a client makes them (docs/reference/shared-memory.md), for tests. */
public final class TestRings {
  private TestRings() {}

  public static final long MIB = 1 << 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A fresh ring name: annflight- and 32 lowercase hex digits. */
  public static String name() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return "annflight-" + HexFormat.of().formatHex(b);
  }

  /** The 24 header bytes a client writes. */
  public static byte[] header(byte[] magic, int slots, int reserved, long slotBytes) {
    ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    b.put(magic).putInt(slots).putInt(reserved).putLong(slotBytes);
    return b.array();
  }

  /** Writes a ring file of {@code size} bytes starting with {@code header}. */
  public static Path write(Path path, byte[] header, long size) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.setLength(size);
      f.write(header);
    }
    return path;
  }

  /** A well-formed ring of {@code slots} slots of {@code slotBytes} in {@code dir}. */
  public static Path create(Path dir, int slots, long slotBytes) throws IOException {
    return write(dir.resolve(name()), header(RingFile.MAGIC, slots, 0, slotBytes),
        RingFile.HEADER_BYTES + slots * slotBytes);
  }

  /** Opens a ring in its own directory, as the server opens one in /dev/shm. */
  public static RingFile open(Path ring) throws RingRefusedException {
    return RingFile.open(ring.toString(), ring.getParent());
  }

  /** The state of {@code slot} as the client sees it (its own file access). */
  public static int state(Path ring, int slot) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(ring.toFile(), "r")) {
      f.seek(RingFile.STATE_OFFSET + 4L * slot);
      return Integer.reverseBytes(f.readInt());
    }
  }

  /** Frees {@code slot}, as the client does once it no longer needs the batch in it. */
  public static void free(Path ring, int slot) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(ring.toFile(), "rw")) {
      f.seek(RingFile.STATE_OFFSET + 4L * slot);
      f.writeInt(Integer.reverseBytes(RingFile.FREE));
    }
  }

  /** {@code length} bytes of {@code slot}, as the client reads them. */
  public static byte[] slotBytes(Path ring, long slotBytes, int slot, int length)
      throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(ring.toFile(), "r")) {
      byte[] b = new byte[length];
      f.seek(RingFile.HEADER_BYTES + slot * slotBytes);
      f.readFully(b);
      return b;
    }
  }
}
