package io.annflight.flight;

import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightMethod;
import org.apache.arrow.flight.FlightProducer.CallContext;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ring file a same-host client asks a DoGet's batches to go through (the
 * {@code annflight-shared-memory} call header; docs/reference/shared-memory.md). Whether the
 * server uses it is the stream's decision ({@link io.annflight.runtime.shm.RingFile#open});
 * with {@code --no-shared-memory} no stream is asked to.
 */
final class SharedMemoryHeader implements FlightServerMiddleware {
  private static final Logger LOG = LoggerFactory.getLogger(SharedMemoryHeader.class);
  static final String NAME = "annflight-shared-memory";
  static final Key<SharedMemoryHeader> KEY = Key.of(NAME);

  private final String path;

  private SharedMemoryHeader(String path) {
    this.path = path;
  }

  /** Reads the header of every DoGet; {@code enabled} false: never passed on (logged). */
  static Factory<SharedMemoryHeader> factory(boolean enabled) {
    return (CallInfo info, CallHeaders headers, RequestContext context) -> {
      String named = info.method() == FlightMethod.DO_GET && headers.containsKey(NAME)
          ? headers.get(NAME) : null;
      if (named != null && !enabled) {
        LOG.debug("DoGet streams over gRPC, not through {}: shared memory is disabled"
            + " (--no-shared-memory)", named);
        named = null;
      }
      return new SharedMemoryHeader(named);
    };
  }

  /** The ring file the call's client named, when the server may use one; else null. */
  static String requested(CallContext context) {
    SharedMemoryHeader h = context.getMiddleware(KEY);
    return h == null ? null : h.path();
  }

  /** The ring file this call's client named, when the server may use one; else null. */
  String path() {
    return path;
  }

  @Override
  public void onBeforeSendingHeaders(CallHeaders outgoing) {}

  @Override
  public void onCallCompleted(CallStatus status) {}

  @Override
  public void onCallErrored(Throwable err) {}
}
