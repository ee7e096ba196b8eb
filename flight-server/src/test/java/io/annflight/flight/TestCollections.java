package io.annflight.flight;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.cli.ServerConfig;
import io.annflight.schema.RequestJson;
import io.annflight.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A data root holding a copy of dense.h5ad (60 rows), served as the named collections. */
final class TestCollections {
  private TestCollections() {}

  static RequestResolver overDense(Path tmp, String... names) throws IOException {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Fixtures.copyTree(Fixtures.dir().resolve("dense.h5ad"), root.resolve("dense.h5ad"));
    ObjectNode options = RequestJson.MAPPER.createObjectNode();
    options.putArray("paths").add("dense.h5ad");
    List<ConfiguredCollection> collections = new ArrayList<>();
    for (String name : names) {
      collections.add(ServerConfig.collection(Path.of("test"), name, options, root));
    }
    return new RequestResolver(new CollectionRegistry(collections), DataRoot.of(root));
  }
}
