package io.annflight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.TypedBuffer;
import io.annflight.store.container.ContainerArray;
import io.annflight.store.h5ad.H5Container;
import io.annflight.store.zarr.ZarrContainer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the fuzzers found, each answered as documented: the inputs are the committed regression
 * inputs (which the fuzz targets also replay); these tests say what each must answer, so a
 * finding that comes back as a slow but silent read fails too.
 */
class FuzzFindingsTest {
  @TempDir Path tmp;

  private Path input(String target, String method, String name, String as) throws IOException {
    String resource = "/io/annflight/fuzz/" + target + "Inputs/" + method + "/" + name;
    try (InputStream in = FuzzFindingsTest.class.getResourceAsStream(resource)) {
      Path out = tmp.resolve(as);
      Files.write(out, in.readAllBytes());
      return out;
    }
  }

  @Test
  void anHdf5LinkWithAnEmptyNameUnderLayersIsNamedAsDamage() throws IOException {
    Path file = input("H5adFuzzTest", "openAndRead", "regression-empty-layer-name", "a.h5ad");
    try (AnnDataStore store = AnnDataStores.open(file)) {
      assertThatThrownBy(store::layerNames).isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("a.h5ad at 'layers'").hasMessageContaining("named ''");
    }
  }

  @Test
  void aStringDatasetClaimingMillionsOfUnwrittenChunksIsRefusedQuickly() throws IOException {
    for (String name : new String[] {"regression-slow-vlen-strings-missing-chunks-1",
        "regression-slow-vlen-strings-missing-chunks-2"}) {
      Path file = input("H5adFuzzTest", "openAndRead", name, name + ".h5ad");
      // A store opens from its metadata; the obs index is decoded when first asked for.
      try (AnnDataStore store = AnnDataStores.open(file)) {
        assertThatThrownBy(() -> store.obs().index()).as(name)
            .isInstanceOf(MalformedStoreException.class)
            .hasMessageContaining("obs/_index").hasMessageContaining("were never written");
      }
    }
  }

  @Test
  void aNumericColumnClaimingMillionsOfUnwrittenChunksReadsThemAsZerosThenIsRefusedByLength()
      throws IOException {
    // obs/n claims 6,094,854 float64 values; the file wrote one chunk (0, 1, ..., 5) and no
    // other. Unwritten chunks hold the fill value (zero); the column is then refused since the
    // index has 6 rows. (Found as a 30-second open: each unwritten chunk cost an exception.)
    Path file = input("H5adFuzzTest", "openAndRead",
        "regression-slow-numeric-column-missing-chunks", "n.h5ad");
    try (H5Container h5 = H5Container.open(file)) {
      ContainerArray n = (ContainerArray) h5.find("obs/n").orElseThrow();
      assertThat(n.shape()).containsExactly(6_094_854L);
      TypedBuffer head = n.readRange(0, 8);
      assertThat(IntStream.range(0, 8).mapToDouble(head::getDouble).toArray())
          .containsExactly(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 0.0);
      TypedBuffer far = n.readRows(new long[] {3_000_000L, 6_094_853L});
      assertThat(far.getDouble(0)).isZero();
      assertThat(far.getDouble(1)).isZero();
    }
    try (AnnDataStore store = AnnDataStores.open(file)) {
      assertThatThrownBy(() -> store.obs().column("n"))
          .isInstanceOf(MalformedStoreException.class)
          .hasMessageContaining("n.h5ad at 'obs/n'")
          .hasMessageContaining("has 6094854 values, expected 6");
    }
  }

  @Test
  void aColumnClaimingMoreBytesThanOneArrayHoldsIsRefusedByName() throws IOException {
    Path file = input("H5adFuzzTest", "openAndRead", "regression-column-rows-past-2gib",
        "c.h5ad");
    try (AnnDataStore store = AnnDataStores.open(file)) {
      assertThatThrownBy(() -> store.obs().column("n"))
          .isInstanceOf(io.annflight.store.UnsupportedLayoutException.class)
          .hasMessageContaining("c.h5ad at 'obs/n'").hasMessageContaining("rows of 8 bytes");
    }
  }

  @Test
  void aCommittedDatatypeWhereAMatrixShouldBeIsRefusedByName() throws IOException {
    Path file = input("H5adFuzzTest", "openAndRead", "regression-committed-datatype-as-element",
        "d.h5ad");
    try (AnnDataStore store = AnnDataStores.open(file)) {
      assertThatThrownBy(() -> store.matrix("X"))
          .isInstanceOf(io.annflight.store.UnsupportedLayoutException.class)
          .hasMessageContaining("d.h5ad at '").hasMessageContaining("CommittedDatatype");
    }
  }

  @Test
  void aFixedUnicodeValueOutsideUnicodeIsNamedAsDamage() throws IOException {
    Path file = input("ZarrFuzzTest", "arrayMetadataAndChunks",
        "regression-fixed-unicode-invalid-code-point", "input");
    byte[] in = Files.readAllBytes(file);
    int metaLength = ((in[1] & 0xFF) << 8) | (in[2] & 0xFF);
    Path store = tmp.resolve("s.zarr");
    Files.createDirectories(store.resolve("X"));
    Files.writeString(store.resolve(".zgroup"), "{\"zarr_format\": 2}");
    Files.write(store.resolve("X/.zarray"), Arrays.copyOfRange(in, 3, 3 + metaLength));
    Files.write(store.resolve("X/0"), Arrays.copyOfRange(in, 3 + metaLength, in.length));
    String meta = new String(in, 3, metaLength, StandardCharsets.UTF_8);
    ContainerArray x = (ContainerArray) ZarrContainer.open(store).find("X").orElseThrow();
    assertThatThrownBy(x::readStrings).as(meta).isInstanceOf(MalformedStoreException.class)
        .hasMessageContaining("s.zarr at 'X'").hasMessageContaining("not a Unicode code point");
  }
}
