package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * Reader resources belong to their owner: a server's decoder threads stop when it closes them,
 * stores opened with them read through them, and the JVM-wide default is never closed.
 */
class StoreResourcesTest {

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
