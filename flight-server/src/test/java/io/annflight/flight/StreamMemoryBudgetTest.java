package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The wait a stream makes before filling a batch while the server is over its budget. */
class StreamMemoryBudgetTest {
  private static final long BATCH = 64 << 10;

  private RootAllocator server;
  private StreamMemoryBudget budget;

  @BeforeEach
  void open() {
    server = new RootAllocator();
    budget = new StreamMemoryBudget(server, 4 * BATCH, 10 * BATCH);
  }

  @AfterEach
  void close() {
    assertThat(server.getAllocatedMemory()).isZero();
    server.close();
  }

  @Test
  void aStreamHoldingABatchWaitsWhileTheServerIsOverBudgetAndGoesOnOnceMemoryIsFreed()
      throws Exception {
    try (BufferAllocator other = server.newChildAllocator("other", 0, Long.MAX_VALUE);
        BufferAllocator stream = server.newChildAllocator("stream", 0, Long.MAX_VALUE);
        ArrowBuf own = stream.buffer(BATCH)) {
      ArrowBuf held = other.buffer(4 * BATCH);
      CompletableFuture<Boolean> room = CompletableFuture.supplyAsync(() -> await(stream));
      Thread.sleep(100);
      assertThat(room).isNotDone();
      held.close(); // the other stream's batches reached the network
      assertThat(room.get(5, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void roomForOneMoreBatchGoesToOneStreamUntilItsBatchIsFilled() throws Exception {
    try (BufferAllocator first = server.newChildAllocator("first", 0, Long.MAX_VALUE);
        BufferAllocator second = server.newChildAllocator("second", 0, Long.MAX_VALUE);
        ArrowBuf a = first.buffer(BATCH);
        ArrowBuf b = second.buffer(BATCH)) {
      // 2 batches held, budget 4: room for one more, and both streams ask at once.
      budget = new StreamMemoryBudget(server, 3 * BATCH, 10 * BATCH);
      assertThat(budget.awaitRoom(first, BATCH, () -> false)).isTrue();
      CompletableFuture<Boolean> room = CompletableFuture.supplyAsync(() -> await(second));
      Thread.sleep(100);
      assertThat(room).isNotDone();
      budget.filled(BATCH); // the first stream's batch is filled... and sent:
      assertThat(room.get(5, TimeUnit.SECONDS)).isTrue();
      budget.filled(BATCH);
    }
  }

  @Test
  void aStreamWithoutABatchInFlightAlwaysGetsOne() throws Exception {
    try (BufferAllocator other = server.newChildAllocator("other", 0, Long.MAX_VALUE);
        BufferAllocator stream = server.newChildAllocator("stream", 0, Long.MAX_VALUE);
        ArrowBuf held = other.buffer(6 * BATCH)) {
      // Over budget, but this stream holds nothing yet: it may fill its first batch.
      assertThat(budget.awaitRoom(stream, BATCH, () -> false)).isTrue();
    }
  }

  @Test
  void nobodyFillsABatchThatWouldPassTheHardLimit() throws Exception {
    try (BufferAllocator other = server.newChildAllocator("other", 0, Long.MAX_VALUE);
        BufferAllocator stream = server.newChildAllocator("stream", 0, Long.MAX_VALUE)) {
      ArrowBuf held = other.buffer(10 * BATCH);
      // This stream holds nothing, but a batch now would take the server past 10 batches.
      CompletableFuture<Boolean> room = CompletableFuture.supplyAsync(() -> await(stream));
      Thread.sleep(100);
      assertThat(room).isNotDone();
      held.close();
      assertThat(room.get(5, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void underBudgetNobodyWaits() throws Exception {
    try (BufferAllocator stream = server.newChildAllocator("stream", 0, Long.MAX_VALUE);
        ArrowBuf own = stream.buffer(2 * BATCH)) {
      assertThat(budget.awaitRoom(stream, BATCH, () -> false)).isTrue();
    }
  }

  @Test
  void aCancelledStreamStopsWaiting() throws Exception {
    AtomicBoolean cancelled = new AtomicBoolean();
    try (BufferAllocator other = server.newChildAllocator("other", 0, Long.MAX_VALUE);
        BufferAllocator stream = server.newChildAllocator("stream", 0, Long.MAX_VALUE);
        ArrowBuf own = stream.buffer(BATCH);
        ArrowBuf held = other.buffer(4 * BATCH)) {
      CompletableFuture<Boolean> room = CompletableFuture.supplyAsync(() -> {
        try {
          return budget.awaitRoom(stream, BATCH, cancelled::get);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(50);
      assertThat(room).isNotDone();
      cancelled.set(true);
      assertThat(room.get(5, TimeUnit.SECONDS)).isFalse();
    }
  }

  @Test
  void theDefaultBudgetIsThreeQuartersOfWhatTheJvmAndTheAllocatorAllow() {
    try (RootAllocator small = new RootAllocator(1 << 20)) {
      assertThat(StreamMemoryBudget.forServer(small).budget()).isEqualTo((1 << 20) / 4 * 3);
    }
    assertThat(StreamMemoryBudget.forServer(server).budget())
        .isEqualTo(StreamMemoryBudget.maxDirectMemory() / 4 * 3)
        .isPositive();
  }

  private boolean await(BufferAllocator stream) {
    try {
      return budget.awaitRoom(stream, BATCH, () -> false);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
