package io.annflight.flight;

import java.util.function.BooleanSupplier;

/** Asked before every batch is filled: may this stream take memory for one more batch now? */
@FunctionalInterface
interface FillGate {
  FillGate OPEN = stop -> !stop.getAsBoolean();

  /** Waits until the stream may fill its next batch; false when {@code stop} turned true. */
  boolean awaitRoom(BooleanSupplier stop) throws InterruptedException;
}
