package io.annflight.store;

/**
 * The codes of a categorical column in the narrowest array that holds them: one byte a row for
 * up to 127 categories, two for up to 32,767, four beyond (-1 is missing). An atlas store's
 * {@code cell_type} of 2,000,000 rows costs 2 MB instead of the 8 MB of an {@code int[]}.
 */
public final class CategoryCodes {
  private final byte[] bytes;
  private final short[] shorts;
  private final int[] ints;
  private final int length;

  private CategoryCodes(byte[] bytes, short[] shorts, int[] ints, int length) {
    this.bytes = bytes;
    this.shorts = shorts;
    this.ints = ints;
    this.length = length;
  }

  /** Room for {@code length} codes below {@code nCategories}, all 0 until set. */
  public static CategoryCodes allocate(int length, int nCategories) {
    if (nCategories <= Byte.MAX_VALUE) {
      return new CategoryCodes(new byte[length], null, null, length);
    }
    if (nCategories <= Short.MAX_VALUE) {
      return new CategoryCodes(null, new short[length], null, length);
    }
    return new CategoryCodes(null, null, new int[length], length);
  }

  /** Codes given as ints, each -1 or below {@code nCategories}. */
  public static CategoryCodes of(int[] codes, int nCategories) {
    CategoryCodes c = allocate(codes.length, nCategories);
    for (int i = 0; i < codes.length; i++) {
      c.set(i, codes[i]);
    }
    return c;
  }

  /** Sets row {@code row}'s code; used while the column is decoded, never after. */
  public void set(int row, int code) {
    if (bytes != null) {
      bytes[row] = (byte) code;
    } else if (shorts != null) {
      shorts[row] = (short) code;
    } else {
      ints[row] = code;
    }
  }

  public int get(int row) {
    return bytes != null ? bytes[row] : shorts != null ? shorts[row] : ints[row];
  }

  public int length() {
    return length;
  }

  /** Heap the codes take. */
  public long bytes() {
    long perRow = bytes != null ? 1 : shorts != null ? 2 : 4;
    return 16 + perRow * length;
  }

  /** The codes as ints (a copy). */
  public int[] toArray() {
    int[] out = new int[length];
    for (int i = 0; i < length; i++) {
      out[i] = get(i);
    }
    return out;
  }
}
