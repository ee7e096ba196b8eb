package io.annflight.store.zarr;

import io.annflight.store.MalformedStoreException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Decodes numpy's fixed-width strings: {@code |S<n>} (bytes, NUL-padded, read as UTF-8) and
 * {@code <U<n>} (UTF-32 code points, NUL-padded). Element i's bytes start at
 * {@code offset + i * stride}, so the same code reads a string array's chunk (stride = width)
 * and a string field of records.
 */
final class FixedWidthStrings {
  private FixedWidthStrings() {}

  static String[] bytes(byte[] src, int n, int stride, int offset, int width) {
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      int at = offset + i * stride;
      int len = 0;
      while (len < width && src[at + len] != 0) {
        len++;
      }
      out[i] = new String(src, at, len, StandardCharsets.UTF_8);
    }
    return out;
  }

  /**
   * @param what names the values in a message ({@code chunk 0.1}, {@code field 'donor'})
   * @throws MalformedStoreException naming the element when a value is no code point
   */
  static String[] unicode(byte[] src, int n, int stride, int offset, int width,
      boolean bigEndian, Path store, String element, String what) {
    ByteBuffer in = ByteBuffer.wrap(src)
        .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    String[] out = new String[n];
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.setLength(0);
      int start = offset + i * stride;
      for (int at = start; at < start + width; at += 4) {
        int cp = in.getInt(at);
        if (cp == 0) {
          break;
        }
        if (!Character.isValidCodePoint(cp)) {
          throw new MalformedStoreException(store, element, what + ": element " + i + " holds 0x"
              + Integer.toHexString(cp) + ", not a Unicode code point");
        }
        sb.appendCodePoint(cp);
      }
      out[i] = sb.toString();
    }
    return out;
  }
}
