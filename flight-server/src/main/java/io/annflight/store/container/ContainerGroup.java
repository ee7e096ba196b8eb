package io.annflight.store.container;

import java.util.List;

/** A group: named children. */
public interface ContainerGroup extends ContainerNode {

  /** Names of the children (groups and arrays), sorted. */
  List<String> children();
}
