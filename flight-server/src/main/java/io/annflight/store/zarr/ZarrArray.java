package io.annflight.store.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One Zarr v2 array: decodes whole chunks. Numeric chunks come back as little-endian bytes of
 * the full (padded) chunk, string chunks as {@code String[]}; both must not be modified since
 * they may be shared through the cache. A missing chunk file is the fill value.
 */
final class ZarrArray {

  private final ZarrTree tree;
  private final String element;
  private final ZarrArrayMeta meta;
  private final Path dir;
  private volatile Object fillChunk;

  ZarrArray(ZarrTree tree, String element, ZarrArrayMeta meta) {
    this.tree = tree;
    this.element = element;
    this.meta = meta;
    this.dir = tree.dir(element);
  }

  String element() {
    return element;
  }

  Path store() {
    return tree.root();
  }

  ZarrArrayMeta meta() {
    return meta;
  }

  long[] shape() {
    return meta.shape().clone();
  }

  int rank() {
    return meta.rank();
  }

  long length() {
    return meta.rank() == 0 ? 1 : meta.shape()[0];
  }

  boolean isNumeric() {
    return meta.dtype().isNumeric();
  }

  /** The stored element type, or null for string arrays. */
  ElementType elementType() {
    return meta.dtype().elementType();
  }

  int width() {
    return meta.dtype().itemSize();
  }

  /** Throws unless this is a numeric array of the given rank. */
  ZarrArray requireNumeric(int rank) {
    if (!isNumeric()) {
      throw new UnsupportedLayoutException(
          store(), element, "expected a numeric array, found dtype " + meta.dtype().text());
    }
    if (rank() != rank) {
      throw new MalformedStoreException(
          store(), element, "expected a " + rank + "-d array, found shape " + java.util.Arrays.toString(meta.shape()));
    }
    return this;
  }

  /**
   * Most a string chunk may decode to (its size is not in the metadata): 256 bytes per element,
   * at least 64 MiB, at most 1 GiB.
   */
  private int maxStringChunkBytes() {
    return (int) Math.min(1L << 30, Math.max(64L << 20, 256L * meta.chunkElements()));
  }

  /** Decoded numeric chunk (little-endian, full padded chunk). */
  byte[] numericChunk(long... index) {
    return (byte[]) chunk(index);
  }

  /** Decoded string chunk (full padded chunk; padding entries may be null). */
  String[] stringChunk(long... index) {
    return (String[]) chunk(index);
  }

  private Object chunk(long[] index) {
    // The chunk's file, or for a sharded array its inner chunk: what messages name too.
    String what = meta.sharding() == null ? "chunk " + meta.keys().key(index)
        : ShardReader.describe(meta, index);
    String cacheKey = element + "\u0000" + what;
    Object cached = tree.cache().get(cacheKey);
    if (cached != null) {
      return cached;
    }
    Object decoded;
    try {
      decoded = load(index, what);
    } catch (OutOfMemoryError e) {
      throw io.annflight.store.StoreResourceException.outOfMemory(store(), element, "decoding " + what,
          e);
    }
    if (decoded != fillChunk) {
      tree.cache().put(cacheKey, decoded);
    }
    return decoded;
  }

  /** Whether {@link #prefetchRows} does anything: an unsharded array in a bucket. */
  boolean readsAhead() {
    return meta.sharding() == null && meta.rank() > 0 && tree.files().readsAhead();
  }

  /**
   * A hint that rows {@code [start, stop)} will be read soon: the chunk objects holding them
   * (every chunk across the other dimensions) that are not decoded in the cache are fetched in
   * the background. Decodes nothing. Sharded arrays are not hinted (their inner chunks'
   * places need the shard's index, which is a read).
   */
  void prefetchRows(long start, long stop) {
    if (!readsAhead()) {
      return;
    }
    long[] shape = meta.shape();
    int[] chunks = meta.chunks();
    long from = Math.max(0, start);
    long to = Math.min(stop, shape[0]);
    if (to <= from) {
      return;
    }
    long columnChunks = 1;
    for (int d = 1; d < shape.length; d++) {
      columnChunks *= (shape[d] + chunks[d] - 1) / chunks[d];
    }
    long[] index = new long[shape.length];
    for (long ci = from / chunks[0]; ci <= (to - 1) / chunks[0]; ci++) {
      for (long c = 0; c < columnChunks; c++) {
        index[0] = ci;
        long rest = c;
        for (int d = shape.length - 1; d >= 1; d--) {
          long n = (shape[d] + chunks[d] - 1) / chunks[d];
          index[d] = rest % n;
          rest /= n;
        }
        String key = meta.keys().key(index);
        if (tree.cache().get(element + "\u0000chunk " + key) == null) {
          tree.files().prefetch(dir.resolve(key));
        }
      }
    }
  }

  /** Decoded bytes of one chunk; -1 for variable-length strings (not in the metadata). */
  private int decodedBytes() {
    return meta.dtype().kind() == ZarrDtype.Kind.OBJECT ? -1
        : meta.chunkElements() * meta.dtype().itemSize();
  }

  /**
   * The most an encoded chunk may take on disk: compressors add little to incompressible data,
   * so a numeric chunk file much larger than its decoded size is damaged, and is refused before
   * it is read into memory.
   */
  private long maxEncodedBytes() {
    int decoded = decodedBytes();
    return decoded < 0 ? maxStringChunkBytes() : decoded + decoded / 2 + (1 << 20);
  }

  private Object load(long[] index, String what) {
    byte[] raw = meta.sharding() == null
        ? tree.files().readIfExists(dir.resolve(meta.keys().key(index)), element, what, 0, -1,
            maxEncodedBytes())
        : ShardReader.innerChunk(this, index, maxEncodedBytes());
    if (raw == null) {
      return fill();
    }
    int n = meta.chunkElements();
    ZarrDtype dtype = meta.dtype();
    int expected = decodedBytes();
    byte[] bytes = decode(raw, expected, what);
    if (expected >= 0 && bytes.length != expected) {
      throw new MalformedStoreException(
          store(), element,
          what + " decodes to " + bytes.length + " bytes, expected " + expected
              + " (" + n + " x " + dtype.text() + ")");
    }
    return switch (dtype.kind()) {
      case NUMERIC -> littleEndian(bytes);
      case OBJECT -> decodeVlenUtf8(bytes, what);
      case FIXED_UNICODE -> FixedWidthStrings.unicode(bytes, n, dtype.itemSize(), 0,
          dtype.itemSize(), dtype.bigEndian(), store(), element, what);
      case FIXED_BYTES -> FixedWidthStrings.bytes(bytes, n, dtype.itemSize(), 0,
          dtype.itemSize());
      case STRUCTURED -> bytes; // split into fields by ZarrRecords
    };
  }

  /** Runs the bytes-to-bytes codecs backwards; only the first one's output size is known. */
  byte[] decode(byte[] raw, int expected, String what) {
    java.util.List<ChunkCodec> codecs = meta.codecs();
    byte[] bytes = raw;
    try {
      for (int i = codecs.size() - 1; i >= 0; i--) {
        bytes = codecs.get(i).decode(bytes, i == 0 ? expected : -1,
            expected >= 0 ? (int) Math.min(Integer.MAX_VALUE - 64, maxEncodedBytes())
                : maxStringChunkBytes());
      }
    } catch (ChunkCodec.CodecException e) {
      throw new MalformedStoreException(
          store(), element, what + " is corrupt or truncated: " + e.getMessage(), e);
    }
    return bytes;
  }

  private byte[] littleEndian(byte[] bytes) {
    int w = meta.dtype().itemSize();
    if (!meta.dtype().bigEndian() || w == 1) {
      return bytes;
    }
    reverseEach(bytes, w);
    return bytes;
  }

  /** Reverses the bytes of each {@code width}-byte value in place (big- to little-endian). */
  static void reverseEach(byte[] bytes, int width) {
    for (int i = 0; i < bytes.length; i += width) {
      for (int a = i, b = i + width - 1; a < b; a++, b--) {
        byte t = bytes[a];
        bytes[a] = bytes[b];
        bytes[b] = t;
      }
    }
  }

  /** numcodecs VLenUTF8: uint32 LE item count, then per item uint32 LE length + UTF-8 bytes. */
  private String[] decodeVlenUtf8(byte[] bytes, String what) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 4) {
      throw vlenError(what, "no item count");
    }
    long count = in.getInt() & 0xFFFFFFFFL;
    int n = meta.chunkElements();
    if (count != n) {
      throw vlenError(what, "holds " + count + " items, expected " + n);
    }
    if ((long) n * 4 > bytes.length - 4) {
      throw vlenError(what, "is " + bytes.length + " bytes, too short for " + n + " items");
    }
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      if (in.remaining() < 4) {
        throw vlenError(what, "ends before item " + i);
      }
      long len = in.getInt() & 0xFFFFFFFFL;
      if (len > in.remaining()) {
        throw vlenError(what, "item " + i + " of " + len + " bytes runs past the end");
      }
      out[i] = new String(bytes, in.position(), (int) len, StandardCharsets.UTF_8);
      in.position(in.position() + (int) len);
    }
    return out;
  }

  private MalformedStoreException vlenError(String what, String problem) {
    return new MalformedStoreException(
        store(), element, what + " is not valid vlen-utf8: " + problem);
  }

  private Object fill() {
    Object f = fillChunk;
    if (f == null) {
      f = makeFill();
      fillChunk = f;
    }
    return f;
  }

  private Object makeFill() {
    int n = meta.chunkElements();
    JsonNode fv = meta.fillValue();
    ZarrDtype dtype = meta.dtype();
    if (dtype.kind() == ZarrDtype.Kind.STRUCTURED) {
      return recordFill(n);
    }
    if (!dtype.isNumeric()) {
      String[] out = new String[n];
      if (fv != null && fv.isTextual()) {
        java.util.Arrays.fill(out, fv.asText());
      }
      return out;
    }
    ElementType t = dtype.elementType();
    TypedBuffer one = TypedBuffer.allocate(t, 1);
    ByteBuffer b = one.bytes();
    boolean zero = fv == null || fv.isNull() || (fv.isNumber() && fv.asDouble() == 0 && !fv.isTextual());
    if (!zero) {
      double d;
      if (fv.isBoolean()) {
        d = fv.asBoolean() ? 1 : 0;
      } else if (fv.isTextual()) {
        String text = fv.asText();
        d = text.startsWith("0x") ? hexFill(text) : switch (text) {
          case "NaN" -> Double.NaN;
          case "Infinity" -> Double.POSITIVE_INFINITY;
          case "-Infinity" -> Double.NEGATIVE_INFINITY;
          default -> throw new MalformedStoreException(
              store(), element, "fill_value " + fv + " is not a number");
        };
      } else if (fv.isNumber()) {
        d = fv.asDouble();
      } else {
        throw new MalformedStoreException(store(), element, "fill_value " + fv + " is not a number");
      }
      switch (t) {
        case BOOL, INT8, UINT8 -> b.put(0, (byte) fv.asLong((long) d));
        case INT16, UINT16 -> b.putShort(0, (short) fv.asLong((long) d));
        case INT32, UINT32 -> b.putInt(0, (int) fv.asLong((long) d));
        case INT64, UINT64 -> b.putLong(0, fv.isIntegralNumber() ? fv.longValue() : (long) d);
        case FLOAT32 -> b.putFloat(0, (float) d);
        case FLOAT64 -> b.putDouble(0, d);
        default -> throw new IllegalStateException();
      }
    }
    int w = t.byteWidth();
    byte[] out = new byte[n * w];
    if (!zero) {
      for (int i = 0; i < n; i++) {
        b.get(0, out, i * w, w);
      }
    }
    return out;
  }

  /** Records of a missing chunk: zarr keeps a record dtype's fill value as base64 bytes. */
  private byte[] recordFill(int n) {
    JsonNode fv = meta.fillValue();
    int w = meta.dtype().itemSize();
    byte[] out = new byte[Math.multiplyExact(n, w)];
    if (fv == null || fv.isNull() || (fv.isNumber() && fv.asDouble() == 0)) {
      return out;
    }
    byte[] one;
    try {
      one = java.util.Base64.getDecoder().decode(fv.asText());
    } catch (IllegalArgumentException e) {
      one = null;
    }
    if (!fv.isTextual() || one == null || one.length != w) {
      throw new MalformedStoreException(store(), element, "fill_value " + fv + " is not the "
          + "base64 bytes of one " + w + "-byte record");
    }
    for (int i = 0; i < n; i++) {
      System.arraycopy(one, 0, out, i * w, w);
    }
    return out;
  }

  /** A v3 float fill value given as its bits ({@code "0x7fc00000"}). */
  private double hexFill(String text) {
    try {
      long bits = Long.parseUnsignedLong(text.substring(2), 16);
      return meta.dtype().itemSize() == 4 ? Float.intBitsToFloat((int) bits)
          : Double.longBitsToDouble(bits);
    } catch (NumberFormatException e) {
      throw new MalformedStoreException(store(), element, "fill_value " + text
          + " is not a number");
    }
  }

  Path dir() {
    return dir;
  }

  ZarrTree tree() {
    return tree;
  }

  // ---- whole-array and 1-d helpers ---------------------------------------------------------

  /** All strings of a 1-d string array. */
  String[] readAllStrings() {
    if (isNumeric() || meta.dtype().kind() == ZarrDtype.Kind.STRUCTURED) {
      throw new UnsupportedLayoutException(
          store(), element, "expected a string array, found dtype " + meta.dtype().text());
    }
    if (rank() == 0) {
      return new String[] {stringChunk()[0]};
    }
    if (rank() != 1) {
      throw new MalformedStoreException(store(), element, "expected a 1-d string array");
    }
    long len = meta.shape()[0];
    int c = meta.chunks()[0];
    String[] out = new String[Math.toIntExact(len)];
    for (long ci = 0, at = 0; at < len; ci++, at += c) {
      String[] chunk = stringChunk(ci);
      int take = (int) Math.min(c, len - at);
      System.arraycopy(chunk, 0, out, (int) at, take);
    }
    return out;
  }

  /**
   * Every record of a 1-d structured array, as stored (each field in its own byte order); at
   * most {@code maxBytes}, since records are read whole.
   */
  byte[] readAllRecords(long maxBytes) {
    if (rank() != 1) {
      throw new UnsupportedLayoutException(store(), element, "is a " + rank()
          + "-D record array, expected 1-D records");
    }
    long len = meta.shape()[0];
    int w = width();
    if (len * w > maxBytes) {
      throw new UnsupportedLayoutException(store(), element, "holds " + len * w
          + " bytes of records, more than annflight decodes at once (" + maxBytes + ")");
    }
    byte[] out = new byte[(int) (len * w)];
    int c = meta.chunks()[0];
    for (long ci = 0, at = 0; at < len; ci++, at += c) {
      int take = (int) Math.min(c, len - at);
      System.arraycopy(numericChunk(ci), 0, out, (int) at * w, take * w);
    }
    return out;
  }

  /** Elements {@code [from, to)} of a 1-d numeric array, little-endian. */
  TypedBuffer read1d(long from, long to) {
    requireNumeric(1);
    int n = Math.toIntExact(to - from);
    TypedBuffer out = TypedBuffer.allocate(elementType(), n);
    new Cursor1d(this).copy(from, to, out.bytes().array(), 0);
    return out;
  }

  /**
   * Sequential reader over a 1-d numeric array for one call: reads must move forward (or stay
   * in the same chunk), so each chunk is decoded at most once per call.
   */
  static final class Cursor1d {
    private final ZarrArray array;
    private final int chunk;
    private final int width;
    private final long length;
    private long chunkIndex = -1;
    private byte[] chunkBytes;

    Cursor1d(ZarrArray array) {
      this.array = array.requireNumeric(1);
      this.chunk = array.meta.chunks()[0];
      this.width = array.width();
      this.length = array.meta.shape()[0];
    }

    private byte[] chunkAt(long ci) {
      if (ci != chunkIndex) {
        chunkBytes = array.numericChunk(ci);
        chunkIndex = ci;
      }
      return chunkBytes;
    }

    /** Copies elements {@code [from, to)} into {@code dst} at byte offset {@code dstOff}. */
    void copy(long from, long to, byte[] dst, int dstOff) {
      if (from < 0 || to > length || from > to) {
        throw new MalformedStoreException(
            array.store(), array.element,
            "range [" + from + ", " + to + ") is outside the array of length " + length);
      }
      long at = from;
      int out = dstOff;
      while (at < to) {
        long ci = at / chunk;
        int within = (int) (at - ci * chunk);
        int take = (int) Math.min(chunk - within, to - at);
        System.arraycopy(chunkAt(ci), within * width, dst, out, take * width);
        out += take * width;
        at += take;
      }
    }

    /** Element i as a long (integer arrays such as indptr and indices). */
    long getLong(long i) {
      if (i < 0 || i >= length) {
        throw new MalformedStoreException(
            array.store(), array.element, "index " + i + " is outside the array of length " + length);
      }
      long ci = i / chunk;
      int at = (int) (i - ci * chunk) * width;
      ByteBuffer b = ByteBuffer.wrap(chunkAt(ci)).order(ByteOrder.LITTLE_ENDIAN);
      return switch (array.elementType()) {
        case BOOL, INT8 -> b.get(at);
        case UINT8 -> b.get(at) & 0xFF;
        case INT16 -> b.getShort(at);
        case UINT16 -> b.getShort(at) & 0xFFFF;
        case INT32 -> b.getInt(at);
        case UINT32 -> b.getInt(at) & 0xFFFFFFFFL;
        case INT64, UINT64 -> b.getLong(at);
        case FLOAT32 -> (long) b.getFloat(at);
        case FLOAT64 -> (long) b.getDouble(at);
      };
    }
  }
}
