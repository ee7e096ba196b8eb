package io.annflight.store.source;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** A file on the server's disk; its identity is the inode and size it had when opened. */
public final class LocalFileSource implements ByteSource {
  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final Object identity;

  private LocalFileSource(Path path, FileChannel channel, long size, Object identity) {
    this.path = path;
    this.channel = channel;
    this.size = size;
    this.identity = identity;
  }

  public static LocalFileSource open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    try {
      BasicFileAttributes a = java.nio.file.Files.readAttributes(path,
          BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      long size = ch.size();
      return new LocalFileSource(path, ch, size,
          java.util.List.of(String.valueOf(a.fileKey()), size, a.lastModifiedTime().toMillis()));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return path.toString();
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public Object identity() {
    return identity;
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return channel.read(dst, position);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
