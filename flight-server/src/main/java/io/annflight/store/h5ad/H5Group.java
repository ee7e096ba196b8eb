package io.annflight.store.h5ad;

import io.annflight.store.container.Attributes;
import io.annflight.store.container.ContainerGroup;
import io.jhdf.api.Group;
import java.util.List;
import java.util.TreeSet;

/** An HDF5 group. */
final class H5Group implements ContainerGroup {

  private final H5File file;
  private final String path;
  private final Group group;
  private volatile Attributes attributes;

  H5Group(H5File file, String path, Group group) {
    this.file = file;
    this.path = path;
    this.group = group;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Attributes attributes() {
    Attributes a = attributes;
    if (a == null) {
      a = H5Attributes.of(file, path, group);
      attributes = a;
    }
    return a;
  }

  @Override
  public List<String> children() {
    return List.copyOf(new TreeSet<>(
        file.guard(path, "the group's members", () -> group.getChildren().keySet())));
  }
}
