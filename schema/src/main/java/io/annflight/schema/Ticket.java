package io.annflight.schema;

import java.util.Objects;

/**
 * A request and the rows to stream for it.
 *
 * @param configuration for a request of a configured collection, the fingerprint of that
 *     collection's configuration on the server that issued the ticket (null in hand-made
 *     tickets): a replica configured differently refuses the ticket instead of serving other
 *     rows
 */
public record Ticket(CollectionRequest request, RowSelection rows, String configuration) {
  public Ticket {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(rows, "rows");
  }

  public Ticket(CollectionRequest request, RowSelection rows) {
    this(request, rows, null);
  }
}
