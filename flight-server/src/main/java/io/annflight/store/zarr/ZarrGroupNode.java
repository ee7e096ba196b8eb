package io.annflight.store.zarr;

import io.annflight.store.container.Attributes;
import io.annflight.store.container.ContainerGroup;
import java.util.List;

/** A Zarr group (v2 or v3). */
final class ZarrGroupNode implements ContainerGroup {

  private final ZarrTree tree;
  private final String path;
  private final Attributes attributes;

  ZarrGroupNode(ZarrTree tree, String path, Attributes attributes) {
    this.tree = tree;
    this.path = path;
    this.attributes = attributes;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Attributes attributes() {
    return attributes;
  }

  @Override
  public List<String> children() {
    return tree.children(path);
  }
}
