package io.annflight.flight;

import io.annflight.schema.RequestException;
import io.annflight.collection.CollectionPlan;
import io.annflight.collection.StoreInfo;
import io.annflight.sampling.EpochOrder;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestLimits;
import io.annflight.schema.RowSelection;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a collection's index space {@code [0, n_obs)} into the row ranges of its endpoints, in
 * order and without gaps. By default each store gets its own endpoints (so a client can read
 * stores in parallel from different files) and a store larger than the cap is cut into
 * near-equal pieces of at most the cap; an explicit {@code rows_per_endpoint} cuts the whole space
 * into pieces of exactly that many rows (the last one shorter), regardless of store boundaries.
 */
public final class EndpointPlanner {
  /** Default largest endpoint: a few hundred MiB of float32 rows at typical widths. */
  public static final long DEFAULT_MAX_ROWS_PER_ENDPOINT = 100_000;

  /** Most endpoints one FlightInfo may list; a smaller rows_per_endpoint is refused. */
  public static final long MAX_ENDPOINTS = RequestLimits.MAX_ENDPOINTS;

  private final long maxRowsPerEndpoint;

  public EndpointPlanner(long maxRowsPerEndpoint) {
    if (maxRowsPerEndpoint <= 0) {
      throw new IllegalArgumentException(
          "max rows per endpoint must be positive, got " + maxRowsPerEndpoint);
    }
    this.maxRowsPerEndpoint = maxRowsPerEndpoint;
  }

  public EndpointPlanner() {
    this(DEFAULT_MAX_ROWS_PER_ENDPOINT);
  }

  /**
   * The endpoints of a request over its epoch's positions: in collection order per store
   * (large stores split); for any other order, equal parts when asked for, else pieces of
   * rows_per_endpoint or the default cap.
   */
  public List<RowSelection.Range> ranges(CollectionPlan plan, CollectionRequest request,
      EpochOrder order) {
    if (request.epoch().isCollectionOrder()) {
      List<StoreInfo> stores = plan.stores();
      long[] storeRows = new long[stores.size()];
      for (int i = 0; i < storeRows.length; i++) {
        storeRows[i] = stores.get(i).nObs();
      }
      return plan(storeRows, request.rowsPerEndpoint());
    }
    if (request.epoch().parts() != null) {
      return equalParts(order.length(), request.epoch().parts().count());
    }
    return plan(new long[] {order.length()}, request.rowsPerEndpoint());
  }

  /**
   * @param storeRows rows of each store in collection order (after any obs filter)
   * @param rowsPerEndpoint the request's {@code rows_per_endpoint}, or null for the default
   */
  public List<RowSelection.Range> plan(long[] storeRows, Long rowsPerEndpoint) {
    List<RowSelection.Range> out = new ArrayList<>();
    if (rowsPerEndpoint != null) {
      long total = 0;
      for (long n : storeRows) {
        total = Math.addExact(total, n);
      }
      long endpoints = (total + rowsPerEndpoint - 1) / rowsPerEndpoint;
      if (endpoints > MAX_ENDPOINTS) {
        throw new RequestException("rows_per_endpoint=" + rowsPerEndpoint + " would give "
            + endpoints + " endpoints for " + total + " rows; at most " + MAX_ENDPOINTS
            + " are allowed, ask for at least " + ((total + MAX_ENDPOINTS - 1) / MAX_ENDPOINTS)
            + " rows per endpoint");
      }
      for (long s = 0; s < total; s += rowsPerEndpoint) {
        out.add(new RowSelection.Range(s, Math.min(total, s + rowsPerEndpoint)));
      }
      return out;
    }
    long offset = 0;
    for (long n : storeRows) {
      if (n < 0) {
        throw new IllegalArgumentException("a store cannot have " + n + " rows");
      }
      cutEvenly(offset, offset + n, out);
      offset += n;
    }
    return out;
  }

  /**
   * {@code count} ranges of equal length covering {@code [0, length)} (count divides it; the
   * request's EqualParts already holds count within the endpoint bound).
   */
  public List<RowSelection.Range> equalParts(long length, int count) {
    long per = length / count;
    List<RowSelection.Range> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(new RowSelection.Range(i * per, (i + 1) * per));
    }
    return out;
  }

  /** Cuts {@code [start, stop)} into near-equal pieces of at most the cap. */
  private void cutEvenly(long start, long stop, List<RowSelection.Range> out) {
    long n = stop - start;
    if (n == 0) {
      return;
    }
    long pieces = (n + maxRowsPerEndpoint - 1) / maxRowsPerEndpoint;
    long base = n / pieces;
    long extra = n % pieces;
    long s = start;
    for (long i = 0; i < pieces; i++) {
      long len = base + (i < extra ? 1 : 0);
      out.add(new RowSelection.Range(s, s + len));
      s += len;
    }
  }
}
