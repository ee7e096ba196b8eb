package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.testing.Fixtures;
import io.annflight.testing.StoreAssertions;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The layouts of other tools and versions (Zarr v3 plain and sharded, anndata <= 0.6 in h5ad
 * and Zarr, compound frames indexed by {@code index} or {@code _index}, MuData
 * modalities, HDF5 string filters) read in full, by range and by row list, and compared with
 * the values the fixture writer wrote.
 */
class FormatFixturesTest {

  /** Store path under the formats directory, and its expected-values name. */
  static final List<String[]> STORES = List.of(
      new String[] {"v3.zarr", "v3.zarr", "zarr"},
      new String[] {"v3_sharded.zarr", "v3_sharded.zarr", "zarr"},
      new String[] {"pre07.h5ad", "pre07.h5ad", "h5ad"},
      new String[] {"pre07_index.h5ad", "pre07_index.h5ad", "h5ad"},
      new String[] {"pre07.zarr", "pre07.zarr", "zarr"},
      new String[] {"mudata.h5mu", "mudata.h5mu", "h5ad"},
      new String[] {"mudata.h5mu/mod/rna", "mudata.h5mu.rna", "h5ad"},
      new String[] {"mudata.h5mu/mod/atac", "mudata.h5mu.atac", "h5ad"},
      new String[] {"mudata.zarr", "mudata.zarr", "zarr"},
      new String[] {"mudata.zarr/mod/prot", "mudata.zarr.prot", "zarr"},
      new String[] {"h5_strings.h5ad", "h5_strings.h5ad", "h5ad"});

  @ParameterizedTest(name = "{0}")
  @FieldSource("STORES")
  void storeMatchesWhatWasWritten(String path, String expected, String format) {
    try (AnnDataStore store = AnnDataStores.open(Fixtures.formats().resolve(path))) {
      assertThat(store.format()).isEqualTo(format);
      StoreAssertions.assertStoreMatches(store, Fixtures.formatExpected(expected), path);
    }
  }
}
