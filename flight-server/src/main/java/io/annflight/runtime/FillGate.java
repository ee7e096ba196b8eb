package io.annflight.runtime;

import java.util.function.BooleanSupplier;

/** Asked around every batch fill: may this stream take memory for one more batch now? */
interface FillGate {
  FillGate OPEN = new FillGate() {
    @Override
    public boolean awaitRoom(BooleanSupplier stop) {
      return !stop.getAsBoolean();
    }

    @Override
    public void filled() {}

    @Override
    public void wake() {}
  };

  /**
   * Waits until the stream may fill its next batch and holds room for it; false (holding
   * nothing) when {@code stop} turned true. Each true is followed by one {@link #filled()}.
   */
  boolean awaitRoom(BooleanSupplier stop) throws InterruptedException;

  /** The batch is filled: its buffers now count for themselves, the room held is released. */
  void filled();

  /** Makes a stream waiting in {@link #awaitRoom} look at its stop condition again. */
  void wake();

  /** Waits for room, then runs {@code fill}; false when stopped or when fill says the end. */
  default boolean fill(BooleanSupplier stop, BooleanSupplier fill) throws InterruptedException {
    if (!awaitRoom(stop)) {
      return false;
    }
    try {
      return fill.getAsBoolean();
    } finally {
      filled();
    }
  }
}
