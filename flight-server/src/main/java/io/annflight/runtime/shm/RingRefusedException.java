package io.annflight.runtime.shm;

/** Why the server will not use a ring file a client named; the stream goes over gRPC. */
public final class RingRefusedException extends Exception {
  public RingRefusedException(String reason) {
    super(reason);
  }
}
