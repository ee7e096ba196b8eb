package io.annflight.flight;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.schema.RequestJson;
import java.nio.charset.StandardCharsets;

/**
 * The {@code server_status} action: Arrow memory and streams right now, for operators and for
 * tests that check that streams, however they ended, gave all their memory back.
 *
 * @param allocatedBytes Arrow memory held now (batches being filled, queued or sent)
 * @param peakAllocatedBytes the most ever held at once
 * @param streamsRunning DoGet streams being filled or sent
 * @param streamsDraining ended streams whose last batches gRPC still holds
 */
record ServerStatus(long allocatedBytes, long peakAllocatedBytes, int streamsRunning,
    int streamsDraining) {
  static final String TYPE = "server_status";
  static final String DESCRIPTION = "Body: ignored (may be empty). Result: JSON object "
      + "{allocated_bytes, peak_allocated_bytes, streams_running, streams_draining}: Arrow "
      + "memory held now and at most, DoGet streams running, and ended streams whose last "
      + "batches the network still holds.";

  byte[] toJson() {
    ObjectNode o = RequestJson.MAPPER.createObjectNode();
    o.put("allocated_bytes", allocatedBytes);
    o.put("peak_allocated_bytes", peakAllocatedBytes);
    o.put("streams_running", streamsRunning);
    o.put("streams_draining", streamsDraining);
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }
}
