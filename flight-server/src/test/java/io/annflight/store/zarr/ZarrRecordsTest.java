package io.annflight.store.zarr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.ElementType;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.UnsupportedLayoutException;
import io.annflight.store.container.ContainerArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Record arrays whose bytes are written here by hand (uncompressed, from the numpy layout of a
 * structured dtype): a big-endian field, numpy's unnamed padding, byte and unicode strings, a
 * sub-array field, a missing chunk filled from a base64 fill_value; and the dtypes refused.
 */
class ZarrRecordsTest {
  @TempDir Path tmp;

  // a >i4 | 2 bytes padding | s |S3 | u <U2 | v <f8 x 2  = 4 + 2 + 3 + 8 + 16 = 33 bytes
  private static final String DTYPE = "[[\"a\", \">i4\"], [\"\", \"|V2\"], [\"s\", \"|S3\"],"
      + " [\"u\", \"<U2\"], [\"v\", \"<f8\", [2]]]";
  private static final int RECORD = 33;

  private static byte[] record(int a, String s, String u, double v0, double v1) {
    ByteBuffer b = ByteBuffer.allocate(RECORD);
    b.order(ByteOrder.BIG_ENDIAN).putInt(0, a);
    byte[] sb = s.getBytes(StandardCharsets.UTF_8);
    b.put(6, sb, 0, sb.length);
    b.order(ByteOrder.LITTLE_ENDIAN);
    int[] cps = u.codePoints().toArray();
    for (int i = 0; i < cps.length; i++) {
      b.putInt(9 + 4 * i, cps[i]);
    }
    b.putDouble(17, v0).putDouble(25, v1);
    return b.array();
  }

  private ContainerArray open(String dtype, String fill, byte[]... chunks) throws IOException {
    Path store = tmp.resolve("s.zarr");
    Files.createDirectories(store.resolve("r"));
    Files.writeString(store.resolve(".zgroup"), "{\"zarr_format\": 2}");
    Files.writeString(store.resolve("r/.zarray"), "{\"zarr_format\": 2, \"shape\": [5],"
        + " \"chunks\": [2], \"dtype\": " + dtype + ", \"compressor\": null, \"filters\": null,"
        + " \"order\": \"C\", \"fill_value\": " + fill + "}");
    for (int i = 0; i < chunks.length; i++) {
      if (chunks[i] != null) {
        Files.write(store.resolve("r/" + i), chunks[i]);
      }
    }
    return (ContainerArray) ZarrContainer.open(store).find("r").orElseThrow();
  }

  private static byte[] concat(byte[] x, byte[] y) {
    byte[] out = java.util.Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, out, x.length, y.length);
    return out;
  }

  @Test
  void fieldsAreReadInTheirOwnByteOrderAcrossChunksAndFill() throws IOException {
    byte[] fill = record(-7, "f", "F", 0.5, -0.5);
    ContainerArray r = open(DTYPE, "\"" + Base64.getEncoder().encodeToString(fill) + "\"",
        concat(record(1, "abc", "\u00e9", 1.5, 2.5), record(-2, "d", "\u4e2d!", 3, 4)),
        null, // chunk 1 (records 2, 3) is missing: the fill value
        concat(record(300, "xy", "z", 5, 6), new byte[RECORD]));
    assertThat(r.kind()).isEqualTo(ContainerArray.Kind.COMPOUND);
    assertThat(r.fieldNames()).containsExactly("a", "s", "u", "v");
    TypedBuffer a = r.field("a").readRange(0, 5);
    assertThat(a.type()).isEqualTo(ElementType.INT32);
    assertThat(new long[] {a.getLong(0), a.getLong(1), a.getLong(2), a.getLong(3), a.getLong(4)})
        .containsExactly(1, -2, -7, -7, 300);
    assertThat(r.field("s").readStrings()).containsExactly("abc", "d", "f", "f", "xy");
    assertThat(r.field("u").readStrings()).containsExactly("\u00e9", "\u4e2d!", "F", "F", "z");
    ContainerArray v = r.field("v");
    assertThat(v.shape()).containsExactly(5, 2);
    TypedBuffer rows = v.readRows(new long[] {0, 4});
    assertThat(new double[] {rows.getDouble(0), rows.getDouble(1), rows.getDouble(2),
        rows.getDouble(3)}).containsExactly(1.5, 2.5, 5, 6);
  }

  @Test
  void aBadFillValueAndRefusedDtypesAreNamed() throws IOException {
    ContainerArray r = open(DTYPE, "\"AAAA\"", new byte[2 * RECORD]);
    assertThatThrownBy(() -> r.field("a")).isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining("fill_value").hasMessageContaining("33-byte record");
    for (String dtype : new String[] {"[[\"s\", \"|S2\", [2]]]", "[[\"o\", \"|O\"]]",
        "[[\"n\", [[\"x\", \"<i4\"]]]]", "[[\"a\", \"<i4\"], [\"a\", \"<f8\"]]"}) {
      Path store = tmp.resolve("s.zarr");
      io.annflight.testing.FuzzScratch.delete(store);
      assertThatThrownBy(() -> {
        ContainerArray bad = open(dtype, "null");
        bad.field(bad.fieldNames().get(0));
      }).as(dtype).isInstanceOf(UnsupportedLayoutException.class).hasMessageContaining("r");
    }
  }
}
