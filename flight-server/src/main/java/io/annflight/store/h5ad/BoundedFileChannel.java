package io.annflight.store.h5ad;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The read-only file channel jhdf reads through: a positional read that would pass the end of
 * the file fails at once. jhdf sizes its reads by what the file's metadata claims, and its
 * read loop re-reads the same position until the buffer is full, so a damaged length of a
 * gigabyte otherwise costs seconds of reads of the file's tail; here it costs one check.
 */
final class BoundedFileChannel extends FileChannel {
  private final FileChannel channel;
  /**
   * The size last seen. A read inside it needs no new look (a file truncated since then makes
   * the read itself come back short, which callers report); only a read past it asks again.
   */
  private volatile long knownSize;

  BoundedFileChannel(FileChannel channel) throws IOException {
    this.channel = channel;
    this.knownSize = channel.size();
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
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      if (!dsts[i].hasRemaining()) {
        continue;
      }
      int n = read(dsts[i]);
      if (n <= 0) {
        return total == 0 ? n : total;
      }
      total += n;
    }
    return total;
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
    return channel.map(mode, position, size);
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
