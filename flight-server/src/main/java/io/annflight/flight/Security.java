package io.annflight.flight;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;

/**
 * How the server is protected: TLS (a PEM certificate chain and key; with a client CA,
 * clients must present a certificate it signed) and bearer tokens (a token file, see
 * {@link io.annflight.flight.access.TokenFile}). Each part is optional.
 */
public record Security(Path tlsCert, Path tlsKey, Path tlsClientCa, Path tokens) {

  public static final Security NONE = new Security(null, null, null, null);

  public Security {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
    }
    if (tlsClientCa != null && tlsCert == null) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
    }
  }

  public boolean tls() {
    return tlsCert != null;
  }

  /** {@code grpc+tls} with TLS, {@code grpc+tcp} without. */
  Location location(String host, int port) {
    return tls() ? Location.forGrpcTls(host, port) : Location.forGrpcInsecure(host, port);
  }

  void configure(FlightServer.Builder builder) throws IOException {
    if (tls()) {
      builder.useTls(tlsCert.toFile(), tlsKey.toFile());
      if (tlsClientCa != null) {
        builder.useMTlsClientVerification(tlsClientCa.toFile());
      }
    }
  }
}
