package io.annflight.store.source;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read-only {@link FileChannel} over a {@link ByteSource}, for libraries that read files
 * through channels (jhdf). Positional reads go straight to the source, without a lock;
 * {@link #map} is refused, which jhdf answers with positional reads.
 */
public final class ByteSourceChannel extends FileChannel {
  private final ByteSource source;
  private final AtomicLong position = new AtomicLong();
  /**
   * The last failure of a read, until a read succeeds: libraries that wrap read errors without
   * their cause (jhdf) leave the reader a way to say what the store answered.
   */
  private volatile RuntimeException lastFault;

  public ByteSourceChannel(ByteSource source) {
    this.source = source;
    this.notMappable = new NotMappable(source.name() + " is not a local file and cannot be"
        + " mapped");
  }

  @Override
  public int read(ByteBuffer dst, long at) throws IOException {
    ensureOpen();
    if (at < 0) {
      throw new IllegalArgumentException("negative position " + at);
    }
    try {
      int n = source.read(dst, at);
      lastFault = null;
      return n;
    } catch (RuntimeException e) {
      lastFault = e;
      throw e;
    }
  }

  /** The source read through this channel: what read-ahead hints go to. */
  public ByteSource source() {
    return source;
  }

  /** The failure of the last read when it failed, else null. */
  public RuntimeException lastFault() {
    return lastFault;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    synchronized (position) {
      int n = read(dst, position.get());
      if (n > 0) {
        position.addAndGet(n);
      }
      return n;
    }
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return scatter(this, dsts, offset, length);
  }

  /**
   * A scattering read as a sequence of {@code channel.read(dst)} calls from its position: for
   * read-only channels that only implement those.
   */
  public static long scatter(FileChannel channel, ByteBuffer[] dsts, int offset, int length)
      throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      if (!dsts[i].hasRemaining()) {
        continue;
      }
      int n = channel.read(dsts[i]);
      if (n <= 0) {
        return total == 0 ? n : total;
      }
      total += n;
    }
    return total;
  }

  private void ensureOpen() throws IOException {
    if (!isOpen()) {
      throw new java.nio.channels.ClosedChannelException();
    }
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    throw new NonWritableChannelException();
  }

  @Override
  public int write(ByteBuffer src, long at) {
    throw new NonWritableChannelException();
  }

  @Override
  public long position() {
    return position.get();
  }

  @Override
  public FileChannel position(long newPosition) {
    position.set(newPosition);
    return this;
  }

  @Override
  public long size() {
    return source.size();
  }

  @Override
  public FileChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public void force(boolean metaData) {
    // read-only: nothing to write back
  }

  @Override
  public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 1 << 20));
    long done = 0;
    while (done < count) {
      buf.clear().limit((int) Math.min(buf.capacity(), count - done));
      int n = read(buf, at + done);
      if (n <= 0) {
        break;
      }
      buf.flip();
      while (buf.hasRemaining()) {
        target.write(buf);
      }
      done += n;
    }
    return done;
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long at, long count) {
    throw new NonWritableChannelException();
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long at, long size) {
    throw notMappable;
  }

  /**
   * What {@link #map} throws: jhdf asks to map every chunk and reads instead when refused, so
   * the refusal is made once, without a stack trace, rather than per chunk.
   */
  private static final class NotMappable extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    NotMappable(String message) {
      super(message);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  private final NotMappable notMappable;

  @Override
  public FileLock lock(long at, long size, boolean shared) {
    throw new UnsupportedOperationException("no locks on " + source.name());
  }

  @Override
  public FileLock tryLock(long at, long size, boolean shared) {
    throw new UnsupportedOperationException("no locks on " + source.name());
  }

  @Override
  protected void implCloseChannel() throws IOException {
    source.close();
  }
}
