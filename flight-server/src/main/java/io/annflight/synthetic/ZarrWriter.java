package io.annflight.synthetic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Writes a {@link SyntheticAnnData} as a Zarr v2 directory store in anndata's encoding (0.8+):
 * uncompressed chunks, strings as {@code vlen-utf8} objects, dense {@code X} and {@code obsm}
 * in chunks of {@value #DENSE_CHUNK_ROWS} rows.
 */
public final class ZarrWriter {
  static final int DENSE_CHUNK_ROWS = 64;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ZarrWriter() {}

  public static void write(SyntheticAnnData a, Path dir) {
    try {
      group(dir, Map.of("encoding-type", "anndata", "encoding-version", "0.1.0"));
      Path obs = frame(dir.resolve("obs"), a.obsNames(), new String[] {"cell_type"});
      Path cellType = group(obs.resolve("cell_type"),
          Map.of("encoding-type", "categorical", "encoding-version", "0.2.0", "ordered", false));
      byte[] codes = new byte[a.nObs()];
      for (int i = 0; i < codes.length; i++) {
        codes[i] = a.cellType(i);
      }
      array(cellType.resolve("codes"), "|i1", new long[] {codes.length}, codes.length,
          ByteBuffer.wrap(codes), attrs("array"));
      strings(cellType.resolve("categories"), a.cellTypes());
      frame(dir.resolve("var"), a.varNames(), new String[0]);
      if (a.csr()) {
        Path x = group(dir.resolve("X"), Map.of("encoding-type", "csr_matrix",
            "encoding-version", "0.1.0", "shape", new long[] {a.nObs(), a.nVars()}));
        SyntheticAnnData.Csr csr = a.csrArrays();
        ByteBuffer data = little(csr.data().length * 4);
        data.asFloatBuffer().put(csr.data());
        array(x.resolve("data"), "<f4", new long[] {csr.data().length},
            Math.max(1, csr.data().length), data, null);
        ByteBuffer indices = little(csr.indices().length * 4);
        indices.asIntBuffer().put(csr.indices());
        array(x.resolve("indices"), "<i4", new long[] {csr.indices().length},
            Math.max(1, csr.indices().length), indices, null);
        ByteBuffer indptr = little(csr.indptr().length * 8);
        indptr.asLongBuffer().put(csr.indptr());
        array(x.resolve("indptr"), "<i8", new long[] {csr.indptr().length},
            csr.indptr().length, indptr, null);
      } else {
        denseMatrix(dir.resolve("X"), a.nObs(), a.nVars(), a::denseRow);
      }
      if (a.obsmColumns() > 0) {
        Path obsm = group(dir.resolve("obsm"),
            Map.of("encoding-type", "dict", "encoding-version", "0.1.0"));
        denseMatrix(obsm.resolve(SyntheticAnnData.OBSM_KEY), a.nObs(), a.obsmColumns(),
            a::obsmRow);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir, e);
    }
  }

  /** A dense float32 array of {@code rows} x {@code cols}, {@code row(i)} its rows. */
  private static void denseMatrix(Path x, int rows, int cols, IntFunction<float[]> row)
      throws IOException {
    Files.createDirectories(x);
    ObjectNode meta = meta("<f4", new long[] {rows, cols}, new long[] {DENSE_CHUNK_ROWS, cols});
    Files.writeString(x.resolve(".zarray"), meta.toString());
    Files.writeString(x.resolve(".zattrs"), JSON.writeValueAsString(attrs("array")));
    for (int c = 0; c * DENSE_CHUNK_ROWS < rows; c++) {
      // Edge chunks are stored whole (padded), as zarr writes them.
      ByteBuffer chunk = little(DENSE_CHUNK_ROWS * cols * 4);
      for (int i = c * DENSE_CHUNK_ROWS; i < Math.min(rows, (c + 1) * DENSE_CHUNK_ROWS); i++) {
        chunk.position((i - c * DENSE_CHUNK_ROWS) * cols * 4);
        chunk.asFloatBuffer().put(row.apply(i));
      }
      Files.write(x.resolve(c + ".0"), chunk.array());
    }
  }

  private static Path frame(Path dir, String[] index, String[] columns) throws IOException {
    group(dir, Map.of("encoding-type", "dataframe", "encoding-version", "0.2.0",
        "_index", "_index", "column-order", columns));
    strings(dir.resolve("_index"), index);
    return dir;
  }

  private static Map<String, Object> attrs(String type) {
    return Map.of("encoding-type", type, "encoding-version", "0.2.0");
  }

  private static Path group(Path dir, Map<String, Object> attrs) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(".zgroup"), "{\"zarr_format\": 2}");
    Files.writeString(dir.resolve(".zattrs"), JSON.writeValueAsString(attrs));
    return dir;
  }

  /** A string array: numcodecs' vlen-utf8 (a count, then each item's length and bytes). */
  private static void strings(Path dir, String[] values) throws IOException {
    byte[][] utf8 = new byte[values.length][];
    int size = 4;
    for (int i = 0; i < values.length; i++) {
      utf8[i] = values[i].getBytes(StandardCharsets.UTF_8);
      size += 4 + utf8[i].length;
    }
    ByteBuffer buf = little(size);
    buf.putInt(values.length);
    for (byte[] v : utf8) {
      buf.putInt(v.length).put(v);
    }
    Files.createDirectories(dir);
    ObjectNode meta = meta("|O", new long[] {values.length},
        new long[] {Math.max(1, values.length)});
    meta.putArray("filters").addObject().put("id", "vlen-utf8");
    meta.put("fill_value", 0);
    Files.writeString(dir.resolve(".zarray"), meta.toString());
    Files.writeString(dir.resolve(".zattrs"), JSON.writeValueAsString(
        Map.of("encoding-type", "string-array", "encoding-version", "0.2.0")));
    Files.write(dir.resolve("0"), buf.array());
  }

  /** A 1-D array in chunks of {@code chunk} elements ({@code values} little-endian). */
  private static void array(Path dir, String dtype, long[] shape, int chunk, ByteBuffer values,
      Map<String, Object> attrs) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(".zarray"), meta(dtype, shape, new long[] {chunk}).toString());
    if (attrs != null) {
      Files.writeString(dir.resolve(".zattrs"), JSON.writeValueAsString(attrs));
    }
    int itemSize = Integer.parseInt(dtype.substring(2));
    byte[] bytes = new byte[chunk * itemSize];
    System.arraycopy(values.array(), 0, bytes, 0, (int) Math.min(bytes.length, shape[0]
        * itemSize));
    Files.write(dir.resolve("0"), bytes);
  }

  private static ObjectNode meta(String dtype, long[] shape, long[] chunks) {
    ObjectNode m = JSON.createObjectNode();
    m.put("zarr_format", 2).put("dtype", dtype).put("order", "C").putNull("compressor")
        .putNull("filters");
    m.put("fill_value", 0);
    shape(m.putArray("shape"), shape);
    shape(m.putArray("chunks"), chunks);
    return m;
  }

  private static void shape(com.fasterxml.jackson.databind.node.ArrayNode a, long[] dims) {
    for (long d : dims) {
      a.add(d);
    }
  }

  private static ByteBuffer little(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
