package io.annflight.store.container;

/** A group or an array of a {@link Container}. */
public interface ContainerNode {

  /** Path from the container's root, {@code /}-separated, {@code ""} for the root. */
  String path();

  Attributes attributes();
}
