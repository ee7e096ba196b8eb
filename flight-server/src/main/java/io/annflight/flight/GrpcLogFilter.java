package io.annflight.flight;

import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC's netty transport logs, through java.util.logging at WARNING with a stack trace, every
 * stream whose client went away while a batch was still queued ("Stream closed before write
 * could take place"). For a server that streams to training jobs that get killed, that is an
 * everyday event and says nothing the stream's own debug line does not: it goes to the debug
 * log as one line. Every other record passes unchanged.
 */
final class GrpcLogFilter implements Filter {
  private static final String NETTY_SERVER_HANDLER = "io.grpc.netty.NettyServerHandler";
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(GrpcLogFilter.class);
  /** Held so the configured logger is not collected (and the filter lost) with it. */
  private static final Logger HANDLER_LOGGER = Logger.getLogger(NETTY_SERVER_HANDLER);

  private final Filter previous;

  private GrpcLogFilter(Filter previous) {
    this.previous = previous;
  }

  /** Installs the filter once per JVM (servers in tests start many times). */
  static synchronized void install() {
    if (!(HANDLER_LOGGER.getFilter() instanceof GrpcLogFilter)) {
      HANDLER_LOGGER.setFilter(new GrpcLogFilter(HANDLER_LOGGER.getFilter()));
    }
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    if (isClientGoneBeforeWrite(record.getThrown())) {
      LOG.debug("a client went away with a batch still queued for it");
      return false;
    }
    return previous == null || previous.isLoggable(record);
  }

  static boolean isClientGoneBeforeWrite(Throwable t) {
    return t != null && t.getClass().getName().endsWith("Http2Exception$StreamException")
        && String.valueOf(t.getMessage()).contains("Stream closed before write could take place");
  }
}
