package io.annflight.flight.access;

import io.annflight.schema.CollectionRequest;
import java.util.Set;

/**
 * What one caller may read: named collections, and whether requests may name store
 * {@code paths} under the data root. Without tokens configured every caller has {@link #ALL}.
 *
 * @param name the token's name (for messages and logs; never the token itself)
 * @param collections the collections granted; {@code "*"} grants every one
 */
public record Grants(String name, Set<String> collections, boolean paths) {

  public static final Grants ALL = new Grants("anyone", Set.of("*"), true);

  public Grants {
    collections = Set.copyOf(collections);
  }

  public boolean allows(String collection) {
    return collections.contains("*") || collections.contains(collection);
  }

  /**
   * Checks a request before anything is planned or read.
   *
   * @throws AccessDeniedException naming what the token lacks
   */
  public void check(CollectionRequest request) {
    if (request.collection() != null) {
      if (!allows(request.collection())) {
        throw new AccessDeniedException("token \"" + name + "\" is not granted collection \""
            + request.collection() + "\"");
      }
      return;
    }
    if (!paths) {
      throw new AccessDeniedException("token \"" + name + "\" may not name store paths; ask"
          + " for a collection it is granted");
    }
  }
}
