package io.annflight.runtime.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which ring files the server accepts (a remote client names the path: the server must never
 * write anywhere but a ring as described), and the slot operations: waiting for a free slot,
 * stopping that wait, a file truncated under the stream. What a written slot holds is checked
 * in {@code SharedMemoryBatchesTest}.
 */
class RingFileTest {
  private static final long SLOT = TestRings.MIB;

  @TempDir
  Path dir;

  @Test
  void aWellFormedRingIsOpenedAndMapped() throws Exception {
    Path ring = TestRings.create(dir, 3, 2 * SLOT);
    try (RingFile r = TestRings.open(ring)) {
      assertThat(r.slotCount()).isEqualTo(3);
      assertThat(r.slotBytes()).isEqualTo(2 * SLOT);
      assertThat(r.path()).isEqualTo(ring);
    }
  }

  @Test
  void theRealDirectoryIsDevShm() {
    assertThat(RingFile.DIRECTORY).isEqualTo(Path.of("/dev/shm"));
  }

  /** Refused with a reason naming {@code expected}; the named file, if any, is unchanged. */
  private void assertRefused(String named, String expected) throws IOException {
    Path p = Path.of(named);
    // (Not the sparse file beyond 4 GiB: it holds its header and zeros.)
    byte[] before = Files.isRegularFile(p) && Files.size(p) < (64 << 20)
        ? Files.readAllBytes(p) : null;
    assertThatThrownBy(() -> RingFile.open(named, dir))
        .isInstanceOf(RingRefusedException.class).hasMessageContaining(expected);
    if (before != null) {
      assertThat(Files.readAllBytes(p)).isEqualTo(before);
    }
  }

  @Test
  void pathsOutsideTheDirectoryOrOtherwiseNamedAreRefused() throws Exception {
    Path ring = TestRings.create(dir, 1, SLOT);
    String name = ring.getFileName().toString();
    assertRefused(name, "is not directly in");
    assertRefused(dir.resolve("..").resolve(dir.getFileName()).resolve(name).toString(),
        "is not directly in");
    Path sub = Files.createDirectories(dir.resolve("sub"));
    assertRefused(TestRings.create(sub, 1, SLOT).toString(), "is not directly in");
    for (String bad : List.of(name.toUpperCase().replace("ANNFLIGHT", "annflight"),
        name.substring(0, name.length() - 1), name + "0", "x" + name.substring(1),
        "annflight-" + "g".repeat(32))) {
      Path p = TestRings.write(dir.resolve(bad), TestRings.header(RingFile.MAGIC, 1, 0, SLOT),
          RingFile.HEADER_BYTES + SLOT);
      assertRefused(p.toString(), "is not named");
    }
    assertRefused("", "no ring file");
    assertRefused(dir.resolve(TestRings.name()).toString(), "cannot be read");
  }

  @Test
  void aSymlinkToAValidRingIsRefusedAndItsTargetUntouched() throws Exception {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path target = TestRings.create(elsewhere, 1, SLOT);
    byte[] before = Files.readAllBytes(target);
    Path link = Files.createSymbolicLink(dir.resolve(TestRings.name()), target);
    assertRefused(link.toString(), "symbolic link");
    assertThat(Files.readAllBytes(target)).isEqualTo(before);
  }

  @Test
  void aDirectoryIsRefused() throws Exception {
    Path d = Files.createDirectory(dir.resolve(TestRings.name()));
    assertRefused(d.toString(), "not a regular file");
  }

  @Test
  void aFileOfAnotherUserIsRefused() throws Exception {
    Path ring = TestRings.create(dir, 1, SLOT);
    UserPrincipal nobody;
    try {
      nobody = ring.getFileSystem().getUserPrincipalLookupService()
          .lookupPrincipalByName("nobody");
      Files.setOwner(ring, nobody);
    } catch (IOException | UnsupportedOperationException e) {
      Assumptions.abort("cannot give a file to another user here (not root): " + e);
      return;
    }
    Assumptions.assumeTrue(!Files.getOwner(ring).equals(
        Files.getOwner(Path.of("/proc/self"))), "nobody is this process's user");
    assertRefused(ring.toString(), "is owned by uid");
  }

  @Test
  void badHeadersAndSizesAreRefused() throws Exception {
    byte[] magic = RingFile.MAGIC;
    long full = RingFile.HEADER_BYTES + SLOT;
    assertRefused(write("AFSHM02\0".getBytes(StandardCharsets.US_ASCII), 1, 0, SLOT, full),
        "magic");
    assertRefused(write(magic, 0, 0, SLOT, full), "slots");
    assertRefused(write(magic, 65, 0, SLOT, RingFile.HEADER_BYTES + 65 * SLOT), "slots");
    assertRefused(write(magic, -1, 0, SLOT, full), "slots");
    assertRefused(write(magic, 1, 7, SLOT, full), "reserved");
    assertRefused(write(magic, 1, 0, SLOT - 64, full), "slots of");
    assertRefused(write(magic, 1, 0, SLOT + 8, full + 8), "slots of");
    assertRefused(write(magic, 1, 0, 4L << 30, RingFile.HEADER_BYTES + 2 * SLOT), "slots of");
    assertRefused(write(magic, 2, 0, SLOT, full), "fewer than");
    assertRefused(write(magic, 1, 0, SLOT, 100), "smaller than the header");
    // Sparse: no disk space is used.
    assertRefused(write(magic, 1, 0, SLOT, (4L << 30) + 1), "larger than 4 GiB");
  }

  private String write(byte[] magic, int slots, int reserved, long slotBytes, long size)
      throws IOException {
    return TestRings.write(dir.resolve(TestRings.name()),
        TestRings.header(magic, slots, reserved, slotBytes), size).toString();
  }

  @Test
  void theWriterWaitsForAFreeSlotAndStopsWhenTold() throws Exception {
    Path ring = TestRings.create(dir, 2, SLOT);
    try (BufferAllocator allocator = new RootAllocator();
        RingFile r = TestRings.open(ring);
        IntVector v = new IntVector("x", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.of(v)) {
      v.allocateNew(3);
      v.set(0, 1);
      v.set(1, 2);
      v.set(2, 3);
      root.setRowCount(3);
      try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch()) {
        int length = r.write(0, batch);
        r.markWritten(0);
        assertThat(TestRings.state(ring, 0)).isEqualTo(RingFile.WRITTEN);
        byte[] written = TestRings.slotBytes(ring, SLOT, 0, length);

        // Slot 0 is the client's: the writer waits (its stop check is asked while it does).
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread writer = waitingWriter(r, 0, stop::get, outcome);
        // Still waiting: nothing was written over the client's batch.
        assertThat(TestRings.slotBytes(ring, SLOT, 0, length)).isEqualTo(written);
        stop.set(true);
        java.util.concurrent.locks.LockSupport.unpark(writer);
        writer.join(TimeUnit.MINUTES.toMillis(1));
        assertThat(writer.isAlive()).isFalse();
        assertThat(outcome.get()).isEqualTo(false);

        // Freed by the client: the wait ends with the slot free.
        Thread second = waitingWriter(r, 0, () -> false, outcome);
        TestRings.free(ring, 0);
        second.join(TimeUnit.MINUTES.toMillis(1));
        assertThat(second.isAlive()).isFalse();
        assertThat(outcome.get()).isEqualTo(true);
        // A free slot needs no wait at all.
        assertThat(r.awaitFree(1, () -> {
          throw new AssertionError("asked to stop while the slot was free");
        })).isTrue();
      }
    }
  }

  /**
   * A thread waiting for {@code slot} to be free, its outcome (the wait's result or failure)
   * set in {@code outcome}; returned once it is seen waiting (asking {@code stop}, which the
   * wait does only while the slot is taken).
   */
  private static Thread waitingWriter(RingFile r, int slot, BooleanSupplier stop,
      AtomicReference<Object> outcome) throws InterruptedException {
    CountDownLatch waiting = new CountDownLatch(1);
    Thread writer = new Thread(() -> {
      try {
        outcome.set(r.awaitFree(slot, () -> {
          waiting.countDown();
          return stop.getAsBoolean();
        }));
      } catch (Exception e) {
        outcome.set(e);
      }
    });
    writer.start();
    assertThat(waiting.await(60, TimeUnit.SECONDS)).isTrue();
    return writer;
  }

  @Test
  void anInterruptEndsTheWait() throws Exception {
    Path ring = TestRings.create(dir, 1, SLOT);
    try (RingFile r = TestRings.open(ring)) {
      r.markWritten(0);
      AtomicReference<Object> outcome = new AtomicReference<>();
      Thread writer = waitingWriter(r, 0, () -> false, outcome);
      writer.interrupt();
      writer.join(TimeUnit.MINUTES.toMillis(1));
      assertThat(writer.isAlive()).isFalse();
      assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
    }
  }

  @Test
  void aBatchLargerThanTheSlotIsNotWrittenPastIt() throws Exception {
    Path ring = TestRings.create(dir, 2, SLOT);
    try (BufferAllocator allocator = new RootAllocator();
        RingFile r = TestRings.open(ring);
        IntVector v = new IntVector("x", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.of(v)) {
      int n = (int) (SLOT / 4) + 10;
      v.allocateNew(n);
      for (int i = 0; i < n; i++) {
        v.set(i, 7);
      }
      root.setRowCount(n);
      try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch()) {
        assertThat(RingFile.messageBytes(batch)).isGreaterThan(SLOT);
        assertThatThrownBy(() -> r.write(0, batch)).isInstanceOf(IOException.class)
            .hasMessageContaining("does not fit");
      }
      // Slot 1 untouched (all zeros).
      byte[] next = TestRings.slotBytes(ring, SLOT, 1, (int) SLOT);
      assertThat(Arrays.equals(next, new byte[(int) SLOT])).isTrue();
    }
  }

  @Test
  void aRingTruncatedUnderTheStreamEndsItWithAnError() throws Exception {
    Path ring = TestRings.create(dir, 2, SLOT);
    try (BufferAllocator allocator = new RootAllocator();
        RingFile r = TestRings.open(ring);
        IntVector v = new IntVector("x", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.of(v)) {
      v.allocateNew(1000);
      for (int i = 0; i < 1000; i++) {
        v.set(i, i);
      }
      root.setRowCount(1000);
      try (RandomAccessFile f = new RandomAccessFile(ring.toFile(), "rw")) {
        f.setLength(RingFile.HEADER_BYTES);
      }
      try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch()) {
        // The JVM may raise the fault a little after the access (compiled code), inside a call
        // that wraps it (reflection, then Arrow): wherever it surfaces, it is this error.
        assertThatThrownBy(() -> {
          try {
            r.write(1, batch);
          } catch (RuntimeException | Error e) {
            throw r.faulted(e);
          }
        }).isInstanceOf(IOException.class).hasMessageContaining("truncated");
      }
    }
  }

  @Test
  void aFaultWrappedByTheCallItSurfacedInIsTheRingsTruncationOnlyWhenTheRingIsShort()
      throws Exception {
    Path ring = TestRings.create(dir, 2, SLOT);
    try (RingFile r = TestRings.open(ring)) {
      // As Arrow's MemoryUtil reported a fault raised inside its reflective constructor call.
      Error wrapped = new Error(new InvocationTargetException(
          new InternalError("a fault occurred in an unsafe memory access operation")));
      // The ring whole: the fault was another mapping's (a store's), not the ring's.
      assertThat(r.faulted(wrapped)).isSameAs(wrapped);
      try (RandomAccessFile f = new RandomAccessFile(ring.toFile(), "rw")) {
        f.setLength(RingFile.HEADER_BYTES + SLOT);
      }
      assertThat(r.faulted(wrapped)).isInstanceOf(IOException.class)
          .hasMessageContaining(ring.toString()).hasMessageContaining("truncated");
      IllegalStateException other = new IllegalStateException("not a fault");
      assertThat(r.faulted(other)).isSameAs(other);
    }
  }
}
