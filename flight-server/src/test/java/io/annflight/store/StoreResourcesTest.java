package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reader resources belong to their owner: a server's decoder threads stop when it closes them,
 * stores opened with them read through them, and the JVM-wide default is never closed. Zarr
 * stores share the resources' one chunk cache, and a closed store's chunks leave it.
 */
class StoreResourcesTest {
  @TempDir Path tmp;

  @Test
  void zarrStoresShareOneChunkCacheAndClosedOnesLeaveIt() throws Exception {
    StoreResources own = new StoreResources();
    try {
      assertThat(own.zarrChunks().budgetBytes())
          .isLessThanOrEqualTo(Runtime.getRuntime().maxMemory() / 8);
      List<AnnDataStore> stores = new ArrayList<>();
      List<Long> used = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Path copy = tmp.resolve("copy" + i + ".zarr");
        Fixtures.copyTree(Fixtures.store("csr.zarr"), copy);
        AnnDataStore store = AnnDataStores.open(copy, own);
        stores.add(store);
        var x = store.matrix("X").orElseThrow();
        x.readRows(0, x.nRows());
        used.add(own.zarrChunks().usedBytes());
      }
      // Each store's chunks went to the one cache, under keys of its own.
      assertThat(used.get(0)).isPositive();
      assertThat(used.get(1)).isGreaterThan(used.get(0));
      assertThat(used.get(2)).isGreaterThan(used.get(1));
      for (AnnDataStore store : stores) {
        store.close();
      }
      assertThat(own.zarrChunks().usedBytes()).isZero();
    } finally {
      own.close();
    }
  }

  @Test
  void closingStopsTheDecoderThreadsAndTheSharedOnesStay() throws Exception {
    StoreResources own = new StoreResources();
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store("dense.zarr"), own)) {
      var x = store.matrix("X").orElseThrow();
      assertThat(x.readRows(0, x.nRows()).nRows()).isEqualTo((int) x.nRows());
    }
    own.close();
    if (own.decoders() != null) {
      assertThat(own.decoders().isShutdown()).isTrue();
    }
    StoreResources.shared().close();
    if (StoreResources.shared().decoders() != null) {
      assertThat(StoreResources.shared().decoders().isShutdown()).isFalse();
    }
    // A store opened after its resources closed still reads: decoding falls back to the caller.
    try (AnnDataStore store = AnnDataStores.open(Fixtures.store("dense.zarr"), own)) {
      var x = store.matrix("X").orElseThrow();
      assertThat(x.readRows(0, x.nRows()).nRows()).isEqualTo((int) x.nRows());
    }
  }
}
