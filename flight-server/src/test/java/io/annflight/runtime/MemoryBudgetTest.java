package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.LockSupport;
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
 * Each waiter is seen parked on the budget's condition before the test frees room (a sleep
 * would not tell: on a loaded machine the waiter may not have started yet, and would then
 * not wait at all).
 */
class MemoryBudgetTest {
  private static final long BATCH = 64 << 10;
  /** A bound against hangs only: every wait below ends as soon as what it waits for happens. */
  private static final Duration LIMIT = Duration.ofSeconds(60);

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
      FutureTask<Boolean> room = parked(() -> await(stream));
      held.close(); // the other stream's batches reached the network
      assertThat(room.get(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
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
      FutureTask<Boolean> room = parked(() -> await(second));
      budget.filled(BATCH); // the first stream's batch is filled... and sent:
      assertThat(room.get(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
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
      FutureTask<Boolean> room = parked(() -> await(stream));
      held.close();
      assertThat(room.get(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
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
      FutureTask<Boolean> room = parked(() -> budget.awaitRoom(stream, BATCH, cancelled::get));
      cancelled.set(true);
      budget.wake(); // what the client's cancel handler does
      assertThat(room.get(LIMIT.toSeconds(), TimeUnit.SECONDS)).isFalse();
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

  /**
   * Runs {@code wait} on a thread of its own and returns once that thread is parked on a
   * condition (the budget's: nothing else in {@code wait} parks on one), i.e. waiting for room.
   */
  private static FutureTask<Boolean> parked(Callable<Boolean> wait) throws InterruptedException {
    FutureTask<Boolean> task = new FutureTask<>(wait);
    Thread waiter = new Thread(task, "budget-waiter");
    waiter.setDaemon(true);
    waiter.start();
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (!(LockSupport.getBlocker(waiter) instanceof AbstractQueuedSynchronizer.ConditionObject)) {
      assertThat(task).as("the waiter returned without waiting").isNotDone();
      assertThat(System.nanoTime()).as("the waiter never waited").isLessThan(deadline);
      Thread.sleep(1);
    }
    return task;
  }

  private boolean await(BufferAllocator stream) {
    try {
      return budget.awaitRoom(stream, BATCH, () -> false);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
