package io.annflight.runtime.shm;

import io.annflight.store.source.MappedAccessFaults;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;

/**
 * A same-host client's ring of shared memory, mapped by the server for one DoGet stream
 * (docs/reference/shared-memory.md): a 4096-byte header (magic, slot count, slot size, one
 * int32 state per slot: 0 free, 1 written by the server) and the slots. The server writes a
 * batch as one encapsulated Arrow IPC message into a free slot and marks it written; the
 * client reads it in place and marks it free again.
 *
 * <p>A client names the file; {@link #open} accepts only a ring as described, so that a remote
 * client can never make the server write anywhere else: a regular file (never a symlink)
 * directly in the ring directory, named {@code annflight-} and 32 lowercase hex digits, owned
 * by the server's user, with a valid header and the size it says. Every write stays inside the
 * mapping; a file truncated under the stream faults, which ends that stream (its failure
 * turned by {@link #faulted} into an {@link IOException} naming the ring), not the server.
 * Used by one stream thread.
 */
public final class RingFile implements AutoCloseable {
  public static final Path DIRECTORY = Path.of("/dev/shm");
  static final int HEADER_BYTES = 4096;
  static final byte[] MAGIC = "AFSHM01\0".getBytes(StandardCharsets.US_ASCII);
  static final int MAX_SLOTS = 64;
  static final long MIN_SLOT_BYTES = 1 << 20;
  /** Each slot is mapped on its own, and a Java mapping holds at most 2 GiB. */
  static final long MAX_SLOT_BYTES = Integer.MAX_VALUE & ~63L;
  static final long MAX_FILE_BYTES = 4L << 30;
  static final int STATE_OFFSET = 64;
  static final int FREE = 0;
  static final int WRITTEN = 1;
  private static final Pattern NAME = Pattern.compile("annflight-[0-9a-f]{32}");
  private static final VarHandle STATE =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  /** Spins before parking, then parks of growing length up to these, in ns. */
  private static final int SPINS = 100;
  private static final long PARK_NANOS = 200_000;
  private static final long LONG_PARK_NANOS = 5_000_000;
  private static final long LONG_WAIT_NANOS = 1_000_000_000;

  private final Path path;
  private final int slotCount;
  private final long slotBytes;
  private final MappedByteBuffer header;
  private final MappedByteBuffer[] slots;

  private RingFile(Path path, int slotCount, long slotBytes, MappedByteBuffer header,
      MappedByteBuffer[] slots) {
    this.path = path;
    this.slotCount = slotCount;
    this.slotBytes = slotBytes;
    this.header = header;
    this.slots = slots;
  }

  /** Opens the ring a client named, in {@link #DIRECTORY}. */
  public static RingFile open(String named) throws RingRefusedException {
    return open(named, DIRECTORY);
  }

  /**
   * Opens and maps the ring {@code named}, which must lie directly in {@code directory}.
   *
   * @throws RingRefusedException saying why the server will not use it (nothing was written)
   */
  static RingFile open(String named, Path directory) throws RingRefusedException {
    Path path = checkedPath(named, directory);
    BasicFileAttributes before = attributes(path);
    long size = before.size();
    if (size > MAX_FILE_BYTES) {
      throw new RingRefusedException(path + " is larger than 4 GiB (" + size + " bytes)");
    }
    if (size < HEADER_BYTES) {
      throw new RingRefusedException(path + " is smaller than the header (" + size
          + " bytes)");
    }
    // NOFOLLOW_LINKS: O_NOFOLLOW, so that a symlink swapped in since the check is not opened.
    try (FileChannel channel = FileChannel.open(path,
        StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      BasicFileAttributes after = attributes(path);
      if (!Objects.equals(before.fileKey(), after.fileKey())) {
        throw new RingRefusedException(path + " was replaced while it was opened");
      }
      size = channel.size();
      if (size < HEADER_BYTES || size > MAX_FILE_BYTES) {
        throw new RingRefusedException(path + " changed size while it was opened");
      }
      MappedByteBuffer header = channel.map(FileChannel.MapMode.READ_WRITE, 0, HEADER_BYTES);
      header.order(ByteOrder.LITTLE_ENDIAN);
      byte[] magic = new byte[MAGIC.length];
      header.get(0, magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new RingRefusedException(path + " does not start with the ring magic");
      }
      int count = header.getInt(8);
      int reserved = header.getInt(12);
      long slotBytes = header.getLong(16);
      if (count < 1 || count > MAX_SLOTS) {
        throw new RingRefusedException(path + " says " + Integer.toUnsignedString(count)
            + " slots; 1.." + MAX_SLOTS + " are allowed");
      }
      if (reserved != 0) {
        throw new RingRefusedException(path + " has a non-zero reserved header field");
      }
      if (slotBytes < MIN_SLOT_BYTES || slotBytes > MAX_SLOT_BYTES || slotBytes % 64 != 0) {
        throw new RingRefusedException(path + " says slots of " + slotBytes
            + " bytes; a multiple of 64 from 1 MiB to 2 GiB is allowed");
      }
      long needed = HEADER_BYTES + count * slotBytes;
      if (needed > size) {
        throw new RingRefusedException(path + " holds " + size + " bytes, fewer than the "
            + needed + " its header says");
      }
      MappedByteBuffer[] slots = new MappedByteBuffer[count];
      for (int i = 0; i < count; i++) {
        slots[i] = channel.map(FileChannel.MapMode.READ_WRITE, HEADER_BYTES + i * slotBytes,
            slotBytes);
      }
      // The mappings outlive the channel.
      return new RingFile(path, count, slotBytes, header, slots);
    } catch (IOException e) {
      throw new RingRefusedException(path + " cannot be opened: " + e.getMessage());
    } catch (InternalError e) {
      throw new RingRefusedException(path + " was truncated while it was opened");
    }
  }

  private static Path checkedPath(String named, Path directory) throws RingRefusedException {
    if (named == null || named.isEmpty()) {
      throw new RingRefusedException("no ring file was named");
    }
    Path path;
    try {
      path = Path.of(named);
    } catch (java.nio.file.InvalidPathException e) {
      throw new RingRefusedException("'" + named + "' is not a path");
    }
    Path name = path.getFileName();
    if (!path.isAbsolute() || !directory.equals(path.getParent())) {
      throw new RingRefusedException(named + " is not directly in " + directory);
    }
    if (name == null || !NAME.matcher(name.toString()).matches()) {
      throw new RingRefusedException(named + " is not named annflight-<32 lowercase hex>");
    }
    return path;
  }

  private static BasicFileAttributes attributes(Path path) throws RingRefusedException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw new RingRefusedException(path + " cannot be read: " + e);
    }
    if (a.isSymbolicLink()) {
      throw new RingRefusedException(path + " is a symbolic link");
    }
    if (!a.isRegularFile()) {
      throw new RingRefusedException(path + " is not a regular file");
    }
    int owner = uid(path);
    int self = uid(Path.of("/proc/self"));
    if (owner != self) {
      throw new RingRefusedException(path + " is owned by uid " + owner + ", not the server's ("
          + self + ")");
    }
    return a;
  }

  private static int uid(Path path) throws RingRefusedException {
    try {
      return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      throw new RingRefusedException("the owner of " + path + " cannot be read: " + e);
    }
  }

  public Path path() {
    return path;
  }

  public int slotCount() {
    return slotCount;
  }

  public long slotBytes() {
    return slotBytes;
  }

  /** Slot {@code slot}'s state, read with acquire semantics. */
  int state(int slot) {
    return (int) STATE.getAcquire(header, STATE_OFFSET + 4 * slot);
  }

  /**
   * Waits until the client has freed {@code slot}: a few spins, then parks of up to 200 µs
   * (5 ms after the first second), checking {@code stop} (the client gone) before each;
   * {@link Thread#interrupt} (the server shutting down) or {@link LockSupport#unpark} of this
   * thread ends a park at once.
   *
   * @return false when {@code stop} turned true first
   * @throws InterruptedException when interrupted
   */
  public boolean awaitFree(int slot, BooleanSupplier stop) throws InterruptedException {
    long park = 1_000;
    long t0 = 0;
    for (int i = 0; state(slot) != FREE; i++) {
      if (stop.getAsBoolean()) {
        return false;
      }
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted waiting for shared-memory slot " + slot);
      }
      if (i < SPINS) {
        Thread.onSpinWait();
        continue;
      }
      if (t0 == 0) {
        t0 = System.nanoTime();
      }
      LockSupport.parkNanos(park);
      long cap = System.nanoTime() - t0 > LONG_WAIT_NANOS ? LONG_PARK_NANOS : PARK_NANOS;
      park = Math.min(park * 2, cap);
    }
    return true;
  }

  /** The bytes {@code batch} takes as an encapsulated IPC message. */
  public static long messageBytes(ArrowRecordBatch batch) {
    int metadata = MessageSerializer.serializeMetadata(batch, IpcOption.DEFAULT).remaining();
    return 8 + ((metadata + 7L) & ~7L) + batch.computeBodyLength();
  }

  /**
   * Writes {@code batch} as one encapsulated Arrow IPC message (continuation marker, metadata
   * length, flatbuffer, padding, body) at the start of {@code slot}, which must be free.
   *
   * @return the message's length
   * @throws IOException when it does not fit the slot
   */
  public int write(int slot, ArrowRecordBatch batch) throws IOException {
    ByteBuffer target = slots[slot].duplicate();
    target.clear();
    MessageSerializer.serialize(new WriteChannel(new SlotChannel(target, slot)), batch,
        IpcOption.DEFAULT);
    return target.position();
  }

  /** Marks {@code slot} written (release semantics: its bytes are visible before). */
  public void markWritten(int slot) {
    STATE.setRelease(header, STATE_OFFSET + 4 * slot, WRITTEN);
  }

  /** The error a fault on the mapping becomes (see {@link #faulted}). */
  private IOException truncated(InternalError e) {
    return new IOException("the shared-memory ring " + path + " was truncated under the"
        + " stream (or " + DIRECTORY + " is full)", e);
  }

  /**
   * What a failure {@code t} of a use of the ring is: its truncation when a fault of a mapped
   * access is among {@code t}'s causes and the file is shorter than the ring, else {@code t}.
   * The JVM raises a fault of a mapped access in compiled code as an {@link InternalError} at
   * the thread's next check, which may come after the access's own method returned, wrapped by
   * whatever call it surfaced in; so the ring's methods do not catch it, and the stream turns
   * its whole failure here (a fault raised late may be a store's, named by the stream).
   */
  public Throwable faulted(Throwable t) {
    InternalError fault = MappedAccessFaults.in(t);
    return fault == null || !isShort() ? t : truncated(fault);
  }

  /** Whether the file holds fewer bytes than the ring maps (or can no longer be looked at). */
  boolean isShort() {
    try {
      return Files.size(path) < HEADER_BYTES + slotCount * slotBytes;
    } catch (IOException e) {
      return true;
    }
  }

  /** Unmaps the ring at once (else when the mappings are collected). */
  @Override
  public void close() {
    unmap(header);
    for (MappedByteBuffer s : slots) {
      unmap(s);
    }
  }

  private static final Method INVOKE_CLEANER;
  private static final Object UNSAFE;

  static {
    Method m = null;
    Object u = null;
    try {
      Class<?> c = Class.forName("sun.misc.Unsafe");
      java.lang.reflect.Field f = c.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      u = f.get(null);
      m = c.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      m = null;
    }
    INVOKE_CLEANER = m;
    UNSAFE = u;
  }

  private static void unmap(MappedByteBuffer b) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invoke(UNSAFE, b);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // left to the garbage collector
    }
  }

  /** A slot as a channel that refuses to write past its end. */
  private static final class SlotChannel implements WritableByteChannel {
    private final ByteBuffer target;
    private final int slot;

    SlotChannel(ByteBuffer target, int slot) {
      this.target = target;
      this.slot = slot;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      if (n > target.remaining()) {
        throw new IOException("the batch does not fit shared-memory slot " + slot + " ("
            + target.capacity() + " bytes)");
      }
      target.put(src);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
