package io.annflight.store.zarr;

import io.annflight.store.MalformedStoreException;
import io.annflight.store.StoreNotFoundException;
import io.annflight.store.container.Attributes;
import io.annflight.store.container.Container;
import io.annflight.store.container.ContainerNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Zarr directory store, v2 or v3, as a {@link Container}, read with annflight's own reader
 * (JSON metadata, chunk and shard files, numcodecs compressors; see the README for why not
 * zarr-java). Nodes are opened once and kept; decoded chunks go to the server's Zarr chunk
 * cache, in a scope of this opening's own.
 */
public final class ZarrContainer implements Container {

  private final ZarrTree tree;
  private final ConcurrentHashMap<String, Optional<ContainerNode>> nodes =
      new ConcurrentHashMap<>();

  private final io.annflight.store.StoreGeneration generation;

  private ZarrContainer(ZarrTree tree, io.annflight.store.StoreGeneration generation) {
    this.tree = tree;
    this.generation = generation;
  }

  /**
   * Opens the store at {@code path}: a directory with a root {@code .zgroup} (v2) or
   * {@code zarr.json} (v3).
   *
   * @throws StoreNotFoundException when there is nothing at the path
   * @throws MalformedStoreException when the directory is not a Zarr group
   */
  public static ZarrContainer open(Path path) {
    return open(path, io.annflight.store.StoreResources.shared());
  }

  /** Opens the store, decoding chunks with the given resources' threads. */
  public static ZarrContainer open(Path path, io.annflight.store.StoreResources resources) {
    return open(path, resources, io.annflight.store.StoreGeneration.of(path));
  }

  /**
   * Opens the store as {@code generation}. Its decoded chunks and shard indexes are cached in
   * a scope of the server's Zarr chunk cache of this opening's own, so they are that
   * generation's and go with it.
   */
  public static ZarrContainer open(Path path, io.annflight.store.StoreResources resources,
      io.annflight.store.StoreGeneration generation) {
    if (!Files.exists(path)) {
      throw new StoreNotFoundException(path, "", "no such file or directory");
    }
    if (!Files.isDirectory(path)) {
      throw new MalformedStoreException(path, "", "expected a Zarr directory store, found a file");
    }
    ZarrTree.Version version = ZarrTree.detect(path);
    if (version == null) {
      throw new MalformedStoreException(path, "", "not a Zarr group: expected a .zgroup (Zarr"
          + " v2) or zarr.json (Zarr v3) file at the top of the directory");
    }
    ZarrContainer c = new ZarrContainer(new ZarrTree(path, resources.zarrChunks().scope(), version,
        resources.parallel()), generation);
    ContainerNode root = c.find("").orElseThrow(() -> new MalformedStoreException(path, "",
        "the root metadata names no group"));
    if (!(root instanceof ZarrGroupNode)) {
      throw new MalformedStoreException(path, "", "the root is an array, expected a group");
    }
    if (version == ZarrTree.Version.V2
        && c.tree.readJson("", ".zgroup").path("zarr_format").asInt(-1) != 2) {
      throw new io.annflight.store.UnsupportedLayoutException(path, "",
          "expected zarr_format 2 in .zgroup");
    }
    return c;
  }

  @Override
  public Path path() {
    return tree.root();
  }

  @Override
  public io.annflight.store.StoreGeneration generation() {
    return generation;
  }

  @Override
  public String format() {
    return "zarr";
  }

  @Override
  public Optional<ContainerNode> find(String path) {
    Optional<ContainerNode> n = nodes.get(path);
    if (n == null) {
      n = Optional.ofNullable(load(path));
      nodes.putIfAbsent(path, n);
    }
    return n;
  }

  private ContainerNode load(String path) {
    ZarrTree.NodeMeta meta = tree.node(path);
    if (meta == null) {
      return null;
    }
    Attributes attrs = new Attributes(tree.root(), path, meta.attributes());
    if (meta.group()) {
      return new ZarrGroupNode(tree, path, attrs);
    }
    return new ZarrArrayNode(tree.array(path, meta.arrayJson()), attrs);
  }

  @Override
  public void close() {
    // Chunk files are opened and closed per read; nothing stays open. The cache goes with
    // this generation (a reader still holding the tree would only decode again).
    tree.cache().clear();
  }
}
