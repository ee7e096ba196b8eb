package io.annflight.flight;

import io.annflight.schema.RowSelection;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.Location;

/**
 * Which replica serves which endpoint: the endpoints, in their order, cut into as many
 * contiguous runs of about equal rows as there are replicas, the k-th run to the k-th replica;
 * every endpoint lists the other replicas after its own, in ring order, as alternates. The
 * same request gives the same assignment on any replica (it depends on the rows only), and a
 * store's endpoints, being consecutive, stay on one replica except where a run ends, so its
 * chunks stay in one replica's cache.
 */
final class ReplicaAssignment {
  private ReplicaAssignment() {}

  /** The locations of each endpoint, its own first. */
  static List<Location[]> assign(List<RowSelection.Range> endpoints, List<Location> replicas) {
    int n = replicas.size();
    long total = 0;
    for (RowSelection.Range r : endpoints) {
      total += r.count();
    }
    List<Location[]> out = new ArrayList<>(endpoints.size());
    long before = 0;
    for (RowSelection.Range r : endpoints) {
      // The replica whose share of the rows holds this endpoint's middle row.
      long middle = before + r.count() / 2;
      int own = total == 0 ? 0 : (int) Math.min(n - 1, (double) middle * n / total);
      Location[] where = new Location[n];
      for (int k = 0; k < n; k++) {
        where[k] = replicas.get((own + k) % n);
      }
      out.add(where);
      before += r.count();
    }
    return out;
  }
}
