package io.annflight.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.store.MatrixLayout;
import io.annflight.store.MatrixReader;
import io.annflight.store.RowBlock;
import io.annflight.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import io.jhdf.HdfFile;
import io.jhdf.api.dataset.ChunkedDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The stores the server writes for its warm-up read back, through the project's own readers,
 * as the rows they were made of: dense and CSR, h5ad (jhdf's writer, CSR arrays chunked) and
 * Zarr (by hand), X and obsm.
 */
class SyntheticStoresTest {
  @TempDir
  Path dir;

  @ParameterizedTest
  @CsvSource({"h5ad, false", "h5ad, true", "zarr, false", "zarr, true"})
  void storesReadBackAsWritten(String format, boolean csr) {
    // More non-zeros than one chunk of the h5ad's CSR arrays holds: several chunks.
    SyntheticAnnData a = new SyntheticAnnData(150, 300, 70, csr, 5);
    Path path = dir.resolve("s." + format);
    if (format.equals("h5ad")) {
      H5adWriter.write(a, path);
    } else {
      ZarrWriter.write(a, path);
    }
    AnnDataStore store = AnnDataStores.open(path);
    try {
      assertThat(store.nObs()).isEqualTo(150);
      assertThat(store.obs().columnNames()).isEqualTo(List.of("cell_type"));
      MatrixReader x = store.matrix("X").orElseThrow();
      assertThat(x.layout()).isEqualTo(csr ? MatrixLayout.CSR : MatrixLayout.DENSE);
      assertThat(x.nCols()).isEqualTo(300);
      assertThat(x.storedValues()).isEqualTo(csr ? 150 * 70 : 150 * 300);
      RowBlock rows = x.readRows(0, 150);
      double[][] expected = new double[150][];
      for (int i = 0; i < 150; i++) {
        float[] row = a.denseRow(i);
        expected[i] = new double[row.length];
        int nonZeros = 0;
        for (int j = 0; j < row.length; j++) {
          expected[i][j] = row[j];
          nonZeros += row[j] != 0 ? 1 : 0;
        }
        assertThat(nonZeros).isEqualTo(70);
      }
      Fixtures.assertRows(Fixtures.toDense(rows), expected, path.toString());
      assertThat(store.obsmNames()).isEqualTo(List.of(SyntheticAnnData.OBSM_KEY));
      MatrixReader obsm = store.matrix("obsm/" + SyntheticAnnData.OBSM_KEY).orElseThrow();
      assertThat(obsm.nCols()).isEqualTo(5);
      double[][] pca = new double[150][5];
      for (int i = 0; i < 150; i++) {
        for (int j = 0; j < 5; j++) {
          pca[i][j] = a.obsmRow(i)[j];
        }
      }
      Fixtures.assertRows(Fixtures.toDense(obsm.readRows(0, 150)), pca, path.toString());
    } finally {
      store.close();
    }
  }

  @Test
  void theH5adCsrArraysAreLaidOutAsAnndataWritesThem() {
    Path path = dir.resolve("s.h5ad");
    H5adWriter.write(new SyntheticAnnData(150, 300, 70, true, 5), path);
    try (HdfFile f = new HdfFile(path)) {
      assertThat(f.getDatasetByPath("X/data")).isInstanceOf(ChunkedDataset.class);
      assertThat(f.getDatasetByPath("X/indices")).isInstanceOf(ChunkedDataset.class);
      assertThat(((ChunkedDataset) f.getDatasetByPath("X/data")).getChunkDimensions())
          .containsExactly(H5adWriter.CSR_CHUNK);
      assertThat(f.getDatasetByPath("X/indptr").getJavaType()).isEqualTo(int.class);
      assertThat(f.getDatasetByPath("obsm/X_pca").getDimensions()).containsExactly(150, 5);
    }
  }
}
