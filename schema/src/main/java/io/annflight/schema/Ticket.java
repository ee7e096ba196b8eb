package io.annflight.schema;

import java.util.Objects;

/** A request and the rows to stream for it. */
public record Ticket(CollectionRequest request, RowSelection rows) {
  public Ticket {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(rows, "rows");
  }
}
