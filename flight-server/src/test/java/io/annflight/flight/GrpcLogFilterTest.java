package io.annflight.flight;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Only netty's "client gone before the write" stream error is taken out of gRPC's log. */
class GrpcLogFilterTest {

  @Test
  void theClientGoneStreamErrorIsDroppedAndEverythingElsePasses() {
    GrpcLogFilter.install();
    GrpcLogFilter.install(); // once per JVM, however many servers start
    Logger netty = Logger.getLogger("io.grpc.netty.NettyServerHandler");
    assertThat(netty.getFilter()).isInstanceOf(GrpcLogFilter.class);

    LogRecord gone = new LogRecord(Level.WARNING, "Stream Error");
    gone.setThrown(Http2Exception.streamError(3, Http2Error.STREAM_CLOSED,
        "Stream closed before write could take place"));
    assertThat(netty.getFilter().isLoggable(gone)).isFalse();

    LogRecord other = new LogRecord(Level.WARNING, "Stream Error");
    other.setThrown(Http2Exception.streamError(3, Http2Error.PROTOCOL_ERROR, "bad frame"));
    assertThat(netty.getFilter().isLoggable(other)).isTrue();
    assertThat(netty.getFilter().isLoggable(new LogRecord(Level.SEVERE, "boom"))).isTrue();
  }
}
