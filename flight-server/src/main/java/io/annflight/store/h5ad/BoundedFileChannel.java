package io.annflight.store.h5ad;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The read-only file channel jhdf reads through: a positional read that would pass the end of
 * the file fails at once. jhdf sizes its reads by what the file's metadata claims, and its
 * read loop re-reads the same position until the buffer is full, so a damaged length of a
 * gigabyte otherwise costs seconds of reads of the file's tail; here it costs one check.
 *
 * <p>jhdf maps every chunk it is asked for (a raw chunk, a decompressed one's input). A new
 * mapping per chunk cost a system call, page faults and an unmap at the next GC; on a scan of
 * an unfiltered CSR store those were half of a read's time. So a mapping is a view of one of the
 * file's windows: {@link #WINDOW} bytes at multiples of it, each mapped once, when first needed,
 * {@link #OVERLAP} longer so that a request of up to that size starting in a window lies inside
 * it. Larger requests, and requests past the size the file had when opened, get a mapping of
 * their own. Views are only given inside the file's size at that moment; a file truncated
 * between that check and a copy faults the copy with an {@link InternalError}, as a mapping of
 * its own would (the JVM may raise it a little after the faulting access).
 * Windows are address space only, and are released with the channel once it is unreachable:
 * Java cannot unmap them safely before.
 */
final class BoundedFileChannel extends FileChannel {
  static final long WINDOW = 1L << 30;
  static final long OVERLAP = 64L << 20;

  private final long windowBytes;
  private final long overlapBytes;

  private final FileChannel channel;
  /** The windows of the file's size at open; null until first used. */
  private final AtomicReferenceArray<MappedByteBuffer> windows;
  private final long sizeAtOpen;
  /**
   * The size last seen. A read inside it needs no new look (a file truncated since then makes
   * the read itself come back short, which callers report); only a read past it asks again.
   */
  private volatile long knownSize;

  BoundedFileChannel(FileChannel channel) throws IOException {
    this(channel, WINDOW, OVERLAP);
  }

  /** With windows of other sizes (tests cross their edges on small files). */
  BoundedFileChannel(FileChannel channel, long windowBytes, long overlapBytes)
      throws IOException {
    this.channel = channel;
    this.windowBytes = windowBytes;
    this.overlapBytes = overlapBytes;
    this.knownSize = channel.size();
    this.sizeAtOpen = knownSize;
    this.windows = new AtomicReferenceArray<>(
        (int) ((sizeAtOpen + windowBytes - 1) / windowBytes));
  }

  /** The channel read through. */
  FileChannel inner() {
    return channel;
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    if (position >= 0 && position + dst.remaining() <= knownSize) {
      return channel.read(dst, position);
    }
    long size = channel.size();
    knownSize = size;
    if (position < 0 || position + dst.remaining() > size) {
      throw new IOException("a read of " + dst.remaining() + " bytes at byte " + position
          + " passes the end of the file (" + size + " bytes): damaged metadata, or a file"
          + " truncated while it was served");
    }
    return channel.read(dst, position);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int n = read(dst, channel.position());
    if (n > 0) {
      channel.position(channel.position() + n);
    }
    return n;
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return io.annflight.store.source.ByteSourceChannel.scatter(this, dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    throw new IOException("read-only");
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    throw new IOException("read-only");
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    throw new IOException("read-only");
  }

  @Override
  public long position() throws IOException {
    return channel.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    channel.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    throw new IOException("read-only");
  }

  @Override
  public void force(boolean metaData) throws IOException {
    channel.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target)
      throws IOException {
    return channel.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count)
      throws IOException {
    throw new IOException("read-only");
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    long fileSize = channel.size();
    if (position < 0 || size < 0 || position + size > fileSize) {
      throw new IOException("a mapping of " + size + " bytes at byte " + position
          + " passes the end of the file (" + fileSize + " bytes)");
    }
    if (mode == MapMode.READ_ONLY && size <= overlapBytes && position < sizeAtOpen) {
      int w = (int) (position / windowBytes);
      MappedByteBuffer mapped = window(w, fileSize);
      long offset = position - w * windowBytes;
      if (offset + size <= mapped.capacity()) {
        return mapped.slice((int) offset, (int) size);
      }
    }
    return channel.map(mode, position, size);
  }

  /** Window {@code w}, mapped (when first needed) no further than the file's size now. */
  private MappedByteBuffer window(int w, long fileSize) throws IOException {
    MappedByteBuffer mapped = windows.get(w);
    if (mapped == null) {
      long start = w * windowBytes;
      long end = Math.min(start + windowBytes + overlapBytes, Math.min(sizeAtOpen, fileSize));
      mapped = channel.map(MapMode.READ_ONLY, start, Math.max(0, end - start));
      if (!windows.compareAndSet(w, null, mapped)) {
        mapped = windows.get(w); // another thread mapped it first; this one is released by GC
      }
    }
    return mapped;
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return channel.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return channel.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    channel.close();
  }
}
