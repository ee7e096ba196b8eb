package io.annflight.store.h5ad;

import io.annflight.store.container.ContainerGroup;
import io.jhdf.api.Group;
import java.util.List;
import java.util.TreeSet;

/** An HDF5 group. */
final class H5Group extends H5Node implements ContainerGroup {

  private final Group group;

  H5Group(H5File file, String path, Group group) {
    super(file, path, group);
    this.group = group;
  }

  @Override
  public List<String> children() {
    return List.copyOf(new TreeSet<>(
        file.guard(path, "the group's members", () -> group.getChildren().keySet())));
  }
}
