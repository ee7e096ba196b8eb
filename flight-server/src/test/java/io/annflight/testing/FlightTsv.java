package io.annflight.testing;

import java.nio.charset.StandardCharsets;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;

/** A request's whole answer as text, to compare two servers' (a bucket's and local files'). */
public final class FlightTsv {
  private FlightTsv() {}

  /** The schema, then every endpoint's batches in order, as TSV. */
  public static String of(FlightClient c, String request) throws Exception {
    FlightInfo info = c.getInfo(FlightDescriptor.command(
        request.getBytes(StandardCharsets.UTF_8)));
    StringBuilder out = new StringBuilder(info.getSchema().toString()).append('\n');
    for (FlightEndpoint e : info.getEndpoints()) {
      try (FlightStream s = c.getStream(e.getTicket())) {
        while (s.next()) {
          out.append(s.getRoot().contentToTSVString());
        }
      }
    }
    return out.toString();
  }
}
