package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.schema.CollectionRequest;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalogue under files that change: a store replaced by rename is opened anew for new
 * plans while leased plans keep reading the old file, which closes with its last lease; a store
 * that hangs while opening delays only the requests that need it.
 */
class StoreCatalogTest {
  @TempDir Path dir;

  @Test
  void pastMaxOpenTheLeastRecentlyUsedStoreClosesOnceUnused() throws Exception {
    Path a = Files.copy(Fixtures.store("dense.h5ad"), dir.resolve("a.h5ad"));
    Path b = Files.copy(Fixtures.store("csr.h5ad"), dir.resolve("b.h5ad"));
    Path c = Files.copy(Fixtures.store("csc.h5ad"), dir.resolve("c.h5ad"));
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open, Duration.ofSeconds(30), 2)) {
      StoreHandle ha = catalog.get(a);
      assertThat(ha.acquire()).isTrue(); // a stream is reading a
      StoreHandle hb = catalog.get(b);
      catalog.get(a); // a is now more recent than b
      StoreHandle hc = catalog.get(c);
      assertThat(catalog.size()).isEqualTo(2);
      assertThat(hb.isClosed()).as("least recently used, unleased: closed").isTrue();
      assertThat(ha.isClosed()).isFalse();
      catalog.get(b); // opened again; a is now the least recently used
      assertThat(ha.isClosed()).as("retired but still leased").isFalse();
      ha.release();
      assertThat(ha.isClosed()).as("closed once its lease ended").isTrue();
      assertThat(hc.isClosed()).isFalse();
      assertThat(catalog.get(a)).isNotSameAs(ha);
    }
  }

  @Test
  void aReplacedStoreServesNewPlansWhileLeasedOnesFinishOnTheOldFile() throws Exception {
    Path store = dir.resolve("s.h5ad");
    Files.copy(Fixtures.store("dense.h5ad"), store);
    try (StoreCatalog catalog = new StoreCatalog(AnnDataStores::open)) {
      CollectionEngine engine = new CollectionEngine(catalog);
      CollectionRequest request = CollectionRequest.ofPaths(List.of("s.h5ad"));
      CollectionPlan.Lease old = engine.lease(request, List.of(store));
      StoreHandle oldHandle = old.plan().storeHandles().get(0);
      AnnDataStore oldStore = oldHandle.store();
      assertThat(old.plan().nObs()).isEqualTo(60);

      Path next = dir.resolve("s.h5ad.part");
      Files.copy(Fixtures.store("f_same_var.h5ad"), next);
      Files.move(next, store, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

      try (CollectionPlan.Lease fresh = engine.lease(request, List.of(store))) {
        assertThat(fresh.plan().nObs()).isEqualTo(25);
        assertThat(fresh.plan().storeHandles().get(0).store()).isNotSameAs(oldStore);
      }
      // The old lease still reads the old file, whole, through its open channel.
      var x = old.plan().layers().get(0).readers().get(0).orElseThrow();
      double[][] got = Fixtures.toDense(x.readRows(0, 60));
      Fixtures.assertRows(got, Fixtures.expectedDense(
          Fixtures.expected("dense.h5ad").at("/matrices/X")), "old file after replacement");
      assertThat(oldHandle.isClosed()).isFalse();
      old.close();
      // Retired and no longer leased: closed, and never handed out again.
      assertThat(oldHandle.isClosed()).isTrue();
      assertThat(oldHandle.acquire()).isFalse();
    }
  }

  @Test
  void aStoreThatHangsWhileOpeningBlocksNoOtherStoreAndTimesOut() throws Exception {
    Path slow = dir.resolve("slow.h5ad");
    Path fast = dir.resolve("fast.h5ad");
    Files.copy(Fixtures.store("dense.h5ad"), slow);
    Files.copy(Fixtures.store("f_same_var.h5ad"), fast);
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch slowStarted = new CountDownLatch(1);
    Function<Path, AnnDataStore> opener = p -> {
      if (p.getFileName().toString().equals("slow.h5ad")) {
        slowStarted.countDown();
        try {
          never.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return AnnDataStores.open(p);
    };
    try (StoreCatalog catalog = new StoreCatalog(opener, Duration.ofMillis(200))) {
      Thread waiter = new Thread(() -> {
        try {
          catalog.get(slow);
        } catch (RuntimeException expected) {
          // the timeout, checked below on this thread
        }
      });
      waiter.start();
      slowStarted.await();
      // The slow store is still opening; another store opens regardless. (Asked again while
      // it opens: the 200 ms bound holds for every store, and on a loaded machine opening
      // even a small one may take longer.)
      assertThat(openedWithinAMinute(catalog, fast).nObs()).isEqualTo(25);
      assertThatThrownBy(() -> catalog.get(slow))
          .isInstanceOf(StoreOpenTimeoutException.class)
          .hasMessageContaining("slow.h5ad")
          .hasMessageContaining("did not open within");
      waiter.join();
      never.countDown();
    }
  }

  /** The store at {@code path}, asked for until it has opened (bounded: a minute). */
  private static StoreHandle openedWithinAMinute(StoreCatalog catalog, Path path) {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (true) {
      try {
        return catalog.get(path);
      } catch (StoreOpenTimeoutException stillOpening) {
        if (System.nanoTime() > deadline) {
          throw stillOpening;
        }
      }
    }
  }
}
