package io.annflight.runtime;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A channel of one item between one producing and one consuming thread, where either side may
 * end: the producer says it is done, the consumer that it is gone. Every wait is on a condition
 * the other side signals, so a side that ends never leaves the other waiting.
 */
final class Handoff<T> {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition taken = lock.newCondition();
  private final Condition given = lock.newCondition();
  private T item;
  private boolean producerDone;
  private boolean consumerGone;

  /**
   * Hands {@code value} over, waiting while the previous one is not taken yet.
   *
   * @return false, keeping {@code value}, when the consumer is gone
   */
  boolean put(T value) throws InterruptedException {
    lock.lock();
    try {
      while (item != null && !consumerGone) {
        taken.await();
      }
      if (consumerGone) {
        return false;
      }
      item = value;
      given.signal();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The next item, waiting for it; null once the producer is done and nothing is left. */
  T take() throws InterruptedException {
    lock.lock();
    try {
      while (item == null && !producerDone) {
        given.await();
      }
      T value = item;
      item = null;
      taken.signal();
      return value;
    } finally {
      lock.unlock();
    }
  }

  /** The producer hands nothing more; a waiting consumer wakes. */
  void producerDone() {
    lock.lock();
    try {
      producerDone = true;
      given.signal();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The consumer takes nothing more; a waiting producer wakes and keeps its item.
   *
   * @return the item handed over but not taken (for the caller to free), or null
   */
  T consumerGone() {
    lock.lock();
    try {
      consumerGone = true;
      taken.signal();
      T left = item;
      item = null;
      return left;
    } finally {
      lock.unlock();
    }
  }
}
