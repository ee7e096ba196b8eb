package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The wait a stream makes before filling a batch while the streams are over their budget: it
 * goes on when a release of stream memory, a reservation given back or a stop signals it, with
 * no polling (a missed signal would leave these waits hanging until the test's timeout).
 */
class MemoryBudgetTest {
  private static final long BATCH = 64 << 10;

  private RootAllocator server;
  private StreamAllocators streams;
  private MemoryBudget budget;
  private final List<Double> waits = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() {
    server = new RootAllocator();
    streams = new StreamAllocators(server.newChildAllocator("streams", 0, Long.MAX_VALUE), () -> budget.released());
    budget = budget(4 * BATCH, 10 * BATCH);
  }

  private MemoryBudget budget(long soft, long hard) {
    return new MemoryBudget(streams::allocated, soft, hard, new StreamEvents() {
      @Override
      public void streamEnded(String collection, long rows, long bytes, double seconds) {}

      @Override
      public void budgetWaited(double seconds) {
        waits.add(seconds);
      }
    });
  }

  @AfterEach
  void close() {
    streams.close();
    assertThat(streams.draining()).isZero();
    assertThat(server.getAllocatedMemory()).isZero();
    server.close();
  }

  @Test
  void aStreamHoldingABatchWaitsWhileTheServerIsOverBudgetAndGoesOnOnceMemoryIsFreed()
      throws Exception {
    try (BufferAllocator other = streams.open("other");
        BufferAllocator stream = streams.open("stream");
        ArrowBuf own = stream.buffer(BATCH)) {
      ArrowBuf held = other.buffer(4 * BATCH);
      CompletableFuture<Boolean> room = CompletableFuture.supplyAsync(() -> await(stream));
      Thread.sleep(100);
      assertThat(room).isNotDone();
      held.close(); // the other stream's batches reached the network
      assertThat(room.get(5, TimeUnit.SECONDS)).isTrue();
      budget.filled(BATCH);
      assertThat(waits).hasSize(1);
      assertThat(waits.get(0)).isPositive();
    }
  }

  @Test
  void roomForOneMoreBatchGoesToOneStreamUntilItsBatchIsFilled() throws Exception {
    try (BufferAllocator first = streams.open("first");
        BufferAllocator second = streams.open("second");
        ArrowBuf a = first.buffer(BATCH);
        ArrowBuf b = second.buffer(BATCH)) {
      // 2 batches held, budget 4: room for one more, and both streams ask at once.
      budget = budget(3 * BATCH, 10 * BATCH);
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
    try (BufferAllocator other = streams.open("other");
        BufferAllocator stream = streams.open("stream");
        ArrowBuf held = other.buffer(6 * BATCH)) {
      // Over budget, but this stream holds nothing yet: it may fill its first batch.
      assertThat(budget.awaitRoom(stream, BATCH, () -> false)).isTrue();
    }
  }

  @Test
  void nobodyFillsABatchThatWouldPassTheHardLimit() throws Exception {
    try (BufferAllocator other = streams.open("other");
        BufferAllocator stream = streams.open("stream")) {
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
    try (BufferAllocator stream = streams.open("stream");
        ArrowBuf own = stream.buffer(2 * BATCH)) {
      assertThat(budget.awaitRoom(stream, BATCH, () -> false)).isTrue();
    }
  }

  @Test
  void aCancelledStreamStopsWaiting() throws Exception {
    AtomicBoolean cancelled = new AtomicBoolean();
    try (BufferAllocator other = streams.open("other");
        BufferAllocator stream = streams.open("stream");
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
      budget.wake(); // what the client's cancel handler does
      assertThat(room.get(5, TimeUnit.SECONDS)).isFalse();
    }
  }

  @Test
  void theDefaultBudgetIsThreeQuartersOfWhatTheJvmAndTheAllocatorAllow() {
    try (RootAllocator small = new RootAllocator(1 << 20)) {
      assertThat(MemoryBudget.limitFor(small)).isEqualTo(1 << 20);
    }
    assertThat(MemoryBudget.limitFor(server)).isEqualTo(MemoryBudget.maxDirectMemory())
        .isPositive();
    assertThat(MemoryBudget.of(() -> 0, 1 << 20, StreamEvents.NONE).budget())
        .isEqualTo((1 << 20) / 4 * 3);
  }

  private boolean await(BufferAllocator stream) {
    try {
      return budget.awaitRoom(stream, BATCH, () -> false);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
