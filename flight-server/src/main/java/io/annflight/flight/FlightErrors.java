package io.annflight.flight;

import io.annflight.collection.StoreOpenTimeoutException;
import io.annflight.schema.RequestException;
import io.annflight.store.NotAMatrixException;
import io.annflight.store.StoreAccessException;
import io.annflight.store.StoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.UnsupportedLayoutException;
import java.util.function.UnaryOperator;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps what the service throws to Flight status codes. The message always travels: it names the
 * file, key or index at fault. Unexpected exceptions become INTERNAL and are logged with their
 * stack trace, since the client only sees the message.
 */
public final class FlightErrors {
  private static final Logger LOG = LoggerFactory.getLogger(FlightErrors.class);

  private FlightErrors() {}

  public static FlightRuntimeException toFlight(Throwable t) {
    return toFlight(t, UnaryOperator.identity());
  }

  /** As {@link #toFlight(Throwable)}, the message passed through {@code redact} first. */
  public static FlightRuntimeException toFlight(Throwable t, UnaryOperator<String> redact) {
    if (t instanceof FlightRuntimeException f) {
      return f;
    }
    String message = message(t);
    io.annflight.store.source.ObjectStoreException object =
        io.annflight.store.source.ObjectStoreException.in(t);
    if (object != null && object != t && !message.contains(object.getMessage())) {
      // A reader's wrapper (jhdf's) may drop what the object store said: say it too.
      message += " (" + object.getMessage() + ")";
    }
    return status(t).withDescription(redact.apply(message)).withCause(t).toRuntimeException();
  }

  /** The status code for an exception, without its message. */
  public static CallStatus status(Throwable t) {
    // An object store's answer decides, however deep a reader wrapped it (jhdf, a chunk read).
    io.annflight.store.source.ObjectStoreException object =
        io.annflight.store.source.ObjectStoreException.in(t);
    if (object != null) {
      switch (object.kind()) {
        case NOT_FOUND:
          return CallStatus.NOT_FOUND;
        case DENIED:
          return CallStatus.UNAUTHORIZED; // gRPC's PERMISSION_DENIED
        case UNAVAILABLE:
          return CallStatus.UNAVAILABLE;
        case CHANGED:
          break; // as a store replaced on disk while read: the message says request again
        default:
          break;
      }
    }
    if (t instanceof RequestException || t instanceof NotAMatrixException) {
      return CallStatus.INVALID_ARGUMENT;
    }
    if (t instanceof UnknownCollectionException || t instanceof StoreNotFoundException) {
      return CallStatus.NOT_FOUND;
    }
    if (t instanceof StoreOpenTimeoutException) {
      return CallStatus.UNAVAILABLE;
    }
    if (t instanceof StoreAccessException
        || t instanceof io.annflight.flight.access.AccessDeniedException) {
      return CallStatus.UNAUTHORIZED;
    }
    if (t instanceof UnsupportedLayoutException) {
      return CallStatus.UNIMPLEMENTED;
    }
    if (t instanceof io.annflight.store.StoreResourceException) {
      return CallStatus.RESOURCE_EXHAUSTED;
    }
    if (t instanceof StoreException) {
      // Includes MalformedStoreException: Flight has no DATA_LOSS, the message says what broke.
      return CallStatus.INTERNAL;
    }
    if (t instanceof OutOfMemoryError
        || t instanceof org.apache.arrow.memory.OutOfMemoryException) {
      return CallStatus.RESOURCE_EXHAUSTED;
    }
    LOG.error("unexpected failure", t);
    return CallStatus.INTERNAL;
  }

  private static String message(Throwable t) {
    if (t instanceof OutOfMemoryError) {
      // Thrown where no store or element was at hand: at least the limit.
      return "the server ran out of heap memory (" + t.getMessage() + "; "
          + io.annflight.store.StoreResourceException.heapLimit() + ")";
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
