package io.annflight.collection;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.store.source.ObjectStore;
import io.annflight.store.source.ObjectStoreMetrics;
import io.annflight.testing.Fixtures;
import io.annflight.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every engine case again, its stores read from a bucket (S3Proxy) instead of the fixtures
 * directory: the same plans, rows and columns as from local files, through ranged GETs and the
 * block cache. Blocks of 16 KiB, so reads cross block edges and coalesce adjacent ones.
 */
class ObjectStoreEngineCaseTest extends EngineCaseTest {
  private static S3ProxyServer s3;
  private static ObjectStore store;
  private static long getsBefore;

  @BeforeAll
  static void startBucket() throws Exception {
    s3 = S3ProxyServer.start();
    s3.createBucket("fixtures");
    s3.upload(Fixtures.dir(), "fixtures", "stores");
    store = new ObjectStore(s3.settings().withCaches(16384, 8L << 20, null, 0));
    storeRoot = store.path("s3://fixtures/stores");
    // The uncached engine differs above the stores, not in what it reads: once is enough here.
    alsoUncached = false;
    getsBefore = ObjectStoreMetrics.global().getRequests();
  }

  @AfterAll
  static void stopBucket() {
    storeRoot = Fixtures.dir();
    alsoUncached = true;
    try {
      assertThat(ObjectStoreMetrics.global().getRequests()).isGreaterThan(getsBefore);
    } finally {
      if (store != null) {
        store.close();
      }
      if (s3 != null) {
        s3.close();
      }
    }
  }
}
