package io.annflight.flight;

import com.fasterxml.jackson.databind.JsonNode;
import io.annflight.schema.CollectionRequest;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.schema.Ticket;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.arrow.flight.FlightDescriptor;

/**
 * Turns what a client sent (a descriptor, an action body) into a request and the absolute paths
 * of its stores. Configured collections use their configured paths; request {@code paths} are
 * checked against the data root, and refused when the server has none.
 */
public final class RequestResolver {
  private final CollectionRegistry registry;
  private final DataRoot dataRoot;

  /** @param dataRoot null when only configured collections may be served */
  public RequestResolver(CollectionRegistry registry, DataRoot dataRoot) {
    this.registry = registry;
    this.dataRoot = dataRoot;
  }

  public CollectionRegistry registry() {
    return registry;
  }

  /** A path descriptor names a configured collection; a command descriptor is request JSON. */
  public CollectionRequest request(FlightDescriptor descriptor) {
    if (descriptor.isCommand()) {
      return parse(RequestJson.readObject(descriptor.getCommand(), "descriptor command"),
          Set.of());
    }
    List<String> path = descriptor.getPath();
    if (path.size() != 1) {
      throw new RequestException("a path descriptor names one collection, got "
          + path.size() + " path elements " + path);
    }
    return registry.request(path.get(0));
  }

  /**
   * The fingerprint a ticket of this request carries: its configured collection's, or null
   * for a request of store paths.
   */
  public String configuration(CollectionRequest request) {
    return request.collection() == null ? null
        : registry.get(request.collection()).fingerprint();
  }

  /**
   * Refuses a ticket issued by a server whose configuration of the collection differs from
   * this one's: its rows would be other rows here. Hand-made tickets carry none and pass.
   *
   * @throws RequestException naming the collection
   */
  public void checkConfiguration(Ticket ticket) {
    String issued = ticket.configuration();
    String here = configuration(ticket.request());
    if (issued != null && !issued.equals(here)) {
      throw new RequestException("this ticket of collection \"" + ticket.request().collection()
          + "\" was issued by a server configured differently (configuration " + abbrev(issued)
          + ", here " + abbrev(here) + "): replicas must load the same configuration of the"
          + " collection (paths and options); ask this server's GetFlightInfo for new tickets");
    }
  }

  private static String abbrev(String fingerprint) {
    return fingerprint.length() > 12 ? fingerprint.substring(0, 12) : fingerprint;
  }

  /** Parses request JSON; {@code extraKeys} are keys the caller handles (e.g. {@code args}). */
  public CollectionRequest parse(JsonNode node, Set<String> extraKeys) {
    return RequestJson.parse(node, registry::request, extraKeys);
  }

  /**
   * Store paths as clients may see them: a request's own relative paths, or a configured store's
   * path relative to the data root (its file name when configured outside it).
   */
  public List<String> displayPaths(CollectionRequest request) {
    if (request.collection() == null) {
      return request.paths();
    }
    return registry.get(request.collection()).stores().stream().map(p -> {
      if (dataRoot != null && p.startsWith(dataRoot.path())) {
        return dataRoot.path().relativize(p).toString();
      }
      return String.valueOf(p.getFileName());
    }).toList();
  }

  /**
   * A message as clients may see it: the server's directories taken out of every store path
   * in it (the data root, and the folders of configured stores outside it), as
   * {@link #displayPaths} shows them. Logs keep the full paths.
   */
  public String redact(String message) {
    if (message == null) {
      return null;
    }
    String out = message;
    for (String dir : hiddenDirectories()) {
      out = out.replace(dir, "");
    }
    if (dataRoot != null) {
      // The root itself, where a message names it without a file inside.
      out = out.replace(dataRoot.path().toString(), "<data root>");
    }
    return out;
  }

  private List<String> hiddenDirectories() {
    java.util.Set<String> dirs = new java.util.LinkedHashSet<>();
    if (dataRoot != null) {
      dirs.add(dataRoot.path() + java.io.File.separator);
    }
    for (ConfiguredCollection c : registry.all()) {
      for (Path p : c.stores()) {
        if ((dataRoot == null || !p.startsWith(dataRoot.path())) && p.getParent() != null) {
          dirs.add(p.getParent() + java.io.File.separator);
        }
      }
    }
    // Longest first, so a directory inside another is taken out whole.
    return dirs.stream().sorted(java.util.Comparator.comparingInt(String::length).reversed())
        .toList();
  }

  /** The absolute paths of a request's stores, in order. */
  public List<Path> storePaths(CollectionRequest request) {
    if (request.collection() != null) {
      return registry.get(request.collection()).stores();
    }
    if (dataRoot == null) {
      throw new RequestException("this server has no data root, so requests cannot name "
          + "\"paths\"; name a configured collection instead: "
          + registry.all().stream().map(ConfiguredCollection::name).toList());
    }
    return dataRoot.resolveAll(request.paths());
  }
}
