package io.annflight.store.h5ad;

import io.annflight.store.container.Attributes;
import io.annflight.store.container.ContainerNode;
import io.jhdf.api.Node;

/** What HDF5 groups and datasets share: their file, path and attributes (converted once). */
abstract class H5Node implements ContainerNode {

  final H5File file;
  final String path;
  private final Node node;
  private volatile Attributes attributes;

  H5Node(H5File file, String path, Node node) {
    this.file = file;
    this.path = path;
    this.node = node;
  }

  @Override
  public final String path() {
    return path;
  }

  @Override
  public final Attributes attributes() {
    Attributes a = attributes;
    if (a == null) {
      a = H5Attributes.of(file, path, node);
      attributes = a;
    }
    return a;
  }
}
