package io.annflight.collection;

import io.annflight.schema.CollectionRequest;
import io.annflight.schema.Compression;
import io.annflight.schema.EpochSpec;
import io.annflight.schema.ElementType;
import io.annflight.schema.LabelType;
import io.annflight.schema.MatrixOptions;
import io.annflight.schema.OutputColumn;
import io.annflight.schema.OutputSchema;
import io.annflight.schema.RequestException;
import io.annflight.schema.RequestJson;
import io.annflight.store.ChunkCache;
import io.annflight.store.ColumnData;
import io.annflight.store.MalformedStoreException;
import io.annflight.store.MatrixReader;
import io.annflight.store.ParallelTasks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns requests into {@link CollectionPlan}s over the stores of a {@link StoreCatalog},
 * following lamindb's MappedCollection. Plans are cached by request, so the many streams of one
 * request share one plan.
 */
public final class CollectionEngine {
  private static final int MAX_CACHED_PLANS = 64;
  /**
   * Heap the cached plans' obs_filter selections may take together (4 bytes a kept row): an
   * eighth of the heap, at least 64 MiB; past it the cache starts over.
   */
  static final long MAX_CACHED_SELECTION_BYTES =
      Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 8);

  /**
   * Default bytes of projected CSR rows kept (see {@link ProjectedMatrix}): 256 MiB, at most an
   * eighth of the heap.
   */
  public static final long DEFAULT_PROJECTION_CACHE_BYTES =
      Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8);

  private final StoreCatalog catalog;
  private final Map<String, CollectionPlan> plans = new ConcurrentHashMap<>();
  /** Selection bytes of the plans cached now. */
  private long cachedSelectionBytes;
  /** Projected row groups of every plan's sparse projections, bounded together. */
  private final ChunkCache projections;
  private final ParallelTasks parallel;

  public CollectionEngine(StoreCatalog catalog) {
    this(catalog, DEFAULT_PROJECTION_CACHE_BYTES, ParallelTasks.SERIAL);
  }

  /**
   * @param projectionCacheBytes bytes of projected rows kept; 0 projects every read anew
   * @param parallel where missing projected groups are read
   */
  public CollectionEngine(StoreCatalog catalog, long projectionCacheBytes,
      ParallelTasks parallel) {
    if (projectionCacheBytes < 0) {
      throw new IllegalArgumentException("the projection cache needs >= 0 bytes, got "
          + projectionCacheBytes);
    }
    this.catalog = catalog;
    this.projections = new ChunkCache(projectionCacheBytes);
    this.parallel = parallel;
  }

  /** Bytes of projected rows the engine holds now. */
  public long projectionCacheBytes() {
    return projections.usedBytes();
  }

  /** Tries to lease a plan this many times when its stores are replaced meanwhile. */
  private static final int LEASE_ATTEMPTS = 5;

  /**
   * Builds (or returns the cached) plan; paths are absolute and already vetted. For a quick
   * look only: a store replaced on disk may close under a plan that is not leased.
   */
  public CollectionPlan plan(CollectionRequest request, List<Path> storePaths) {
    if (storePaths.isEmpty()) {
      throw new RequestException("a collection needs at least one store");
    }
    List<StoreHandle> stores = catalog.getAll(storePaths);
    String key = cacheKey(request, stores);
    CollectionPlan cached = plans.get(key);
    if (cached != null) {
      return cached;
    }
    CollectionPlan plan = build(request, storePaths, stores);
    long weight = plan.rows().selectionBytes();
    synchronized (plans) {
      // Plans over a closed opening are never hit again (the key names the opening): let go of
      // what they hold (label values, readers) now rather than when the cache starts over.
      plans.values().removeIf(p -> {
        boolean stale = p.storeHandles().stream().anyMatch(StoreHandle::isClosed);
        if (stale) {
          cachedSelectionBytes -= p.rows().selectionBytes();
        }
        return stale;
      });
      if (plans.size() >= MAX_CACHED_PLANS
          || cachedSelectionBytes + weight > MAX_CACHED_SELECTION_BYTES) {
        plans.clear();
        cachedSelectionBytes = 0;
      }
      if (weight <= MAX_CACHED_SELECTION_BYTES && plans.put(key, plan) == null) {
        cachedSelectionBytes += weight;
      }
    }
    return plan;
  }

  /**
   * The plan with its stores leased: none closes before the lease does, even when its file is
   * replaced meanwhile (new requests then get a plan over the new file).
   */
  public CollectionPlan.Lease lease(CollectionRequest request, List<Path> storePaths) {
    for (int attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      CollectionPlan.Lease lease = plan(request, storePaths).lease();
      if (lease != null) {
        return lease;
      }
    }
    throw new MalformedStoreException(storePaths.get(0), "", "the collection's stores kept"
        + " changing on disk while they were opened; try again");
  }

  /** The request's shape (batching and compression aside) over these very openings. */
  private static String cacheKey(CollectionRequest r, List<StoreHandle> stores) {
    CollectionRequest shape = new CollectionRequest(r.collection(), r.paths(), r.layersKeys(),
        r.obsKeys(), r.obsmKeys(), r.obsFilter(), r.join(), r.encodeLabels(), r.unknownLabel(),
        r.dtype(), null, null, null, Compression.NONE, EpochSpec.COLLECTION_ORDER, r.returnIndex(),
        r.matrix());
    StringBuilder key = new StringBuilder();
    for (StoreHandle h : stores) {
      key.append(h.path()).append('#').append(h.id()).append('\u0000');
    }
    return key.append(RequestJson.toJson(shape)).toString();
  }

  private CollectionPlan build(CollectionRequest request, List<Path> storePaths,
      List<StoreHandle> stores) {
    noDuplicates("layers_keys", request.layersKeys());
    noDuplicates("obs_keys", request.obsKeys());
    noDuplicates("obsm_keys", request.obsmKeys());
    List<String> encoded = request.encodedObsKeys();
    for (String k : request.unknownLabel().byKey().keySet()) {
      if (!encoded.contains(k)) {
        throw new RequestException("unknown_label names \"" + k
            + "\" which is not an encoded obs key " + encoded);
      }
    }
    List<String> storeNames = storePaths.stream().map(p -> p.getFileName().toString()).toList();

    int[][] selected = new int[stores.size()][];
    long[] nObs = new long[stores.size()];
    for (int s = 0; s < stores.size(); s++) {
      selected[s] = ObsFilter.select(stores.get(s), request.obsFilter());
      nObs[s] = stores.get(s).nObs();
    }
    RowIndex rows = new RowIndex(selected, nObs);
    MatrixOptions matrix = request.matrix();
    VarJoin join = matrix.varNames() == null
        ? VarJoin.compute(request.join(), stores.stream().map(StoreHandle::varIndex).toList(),
            storeNames)
        : VarJoin.onto(matrix.varNames(),
            stores.stream().map(s -> s.varNames(matrix.varKey(), false)).toList(), storeNames,
            matrix.varKey() == null ? "var index entry" : "var/" + matrix.varKey() + " value");

    List<OutputColumn> columns = new ArrayList<>();
    columns.add(new OutputColumn.StoreIndex());
    if (request.returnIndex()) {
      columns.add(new OutputColumn.Row());
    }
    List<MatrixColumnPlan> layers = new ArrayList<>();
    for (String key : request.layersKeys()) {
      MatrixColumnPlan p = layerPlan(key, stores, join, request.dtype(), matrix, storeNames,
          projections, parallel);
      layers.add(p);
      columns.add(p.column());
    }
    List<LabelColumnPlan> labels = new ArrayList<>();
    for (String key : request.obsKeys()) {
      LabelColumnPlan p = labelPlan(key, stores, encoded.contains(key),
          request.unknownLabel().forKey(key), labels.size());
      labels.add(p);
      columns.add(p.column());
    }
    List<MatrixColumnPlan> obsm = new ArrayList<>();
    for (String key : request.obsmKeys()) {
      MatrixColumnPlan p = obsmPlan(key, stores, request.dtype(), matrix.sparse());
      obsm.add(p);
      columns.add(p.column());
    }
    Set<String> names = new HashSet<>();
    for (OutputColumn c : columns) {
      if (!names.add(c.name())) {
        throw new RequestException("two output columns would be named \"" + c.name()
            + "\" (a layers key, obs key or obsm_<key> collide); request them separately");
      }
    }
    return new CollectionPlan(request, stores, rows, join, layers, labels, obsm,
        new OutputSchema(columns));
  }

  private static void noDuplicates(String what, List<String> keys) {
    Set<String> seen = new HashSet<>();
    for (String k : keys) {
      if (!seen.add(k)) {
        throw new RequestException(what + " lists \"" + k + "\" twice");
      }
    }
  }

  private static MatrixColumnPlan layerPlan(String key, List<StoreHandle> stores, VarJoin join,
      ElementType dtype, MatrixOptions matrix, List<String> storeNames, ChunkCache projections,
      ParallelTasks parallel) {
    boolean raw = key.equals("raw.X");
    String element = StoreHandle.layerElement(key);
    List<Optional<MatrixReader>> readers = readers(stores, element,
        s -> s.hasLayersKey(key), "layers_keys", key);
    VarJoin rawJoin = null;
    if (raw && matrix.varNames() != null) {
      // var_names project raw.X too, through each store's own raw variables.
      rawJoin = VarJoin.onto(matrix.varNames(), java.util.stream.IntStream.range(0, stores.size())
          .mapToObj(s -> readers.get(s).isPresent()
              ? stores.get(s).varNames(matrix.varKey(), true) : List.<String>of())
          .toList(), storeNames, "raw var entry");
    }
    int n = stores.size();
    int[][] maps = new int[n][];
    int[] widths = new int[n];
    Set<Integer> distinctWidths = new LinkedHashSet<>();
    for (int s = 0; s < n; s++) {
      Optional<MatrixReader> r = readers.get(s);
      if (r.isEmpty()) {
        continue;
      }
      StoreHandle store = stores.get(s);
      checkRows(store, r.get());
      if (raw && rawJoin != null) {
        maps[s] = rawJoin.storeToJoint(s);
        widths[s] = rawJoin.width();
      } else if (raw) {
        // raw.X is not joined: each store keeps its own raw variables.
        widths[s] = Math.toIntExact(r.get().nCols());
      } else {
        int nVars = store.varIndex().size();
        if (r.get().nCols() != nVars) {
          throw new MalformedStoreException(store.path(), element, "has " + r.get().nCols()
              + " columns but var has " + nVars + " entries");
        }
        maps[s] = join.storeToJoint(s);
        widths[s] = join.width() != null ? join.width() : nVars;
      }
      distinctWidths.add(widths[s]);
    }
    Integer width = distinctWidths.size() == 1 ? distinctWidths.iterator().next() : null;
    ElementType type = dtype != null ? dtype : commonType(readers);
    return new MatrixColumnPlan(new OutputColumn.Matrix(key, type, width, matrix.sparse()),
        projected(stores, element, readers, maps, widths, projections, parallel), maps,
        widths);
  }

  /**
   * The readers with each CSR store that keeps few of its columns read through a cached
   * {@link ProjectedMatrix}; its map becomes the identity (null), in place.
   */
  private static List<Optional<MatrixReader>> projected(List<StoreHandle> stores,
      String element, List<Optional<MatrixReader>> readers, int[][] maps, int[] widths,
      ChunkCache projections, ParallelTasks parallel) {
    List<Optional<MatrixReader>> out = new ArrayList<>(readers);
    for (int s = 0; s < out.size(); s++) {
      Optional<MatrixReader> r = out.get(s);
      if (r.isPresent() && ProjectedMatrix.pays(r.get(), maps[s], projections)) {
        int[] map = maps[s];
        int width = widths[s];
        out.set(s, Optional.of(stores.get(s).projection(element, map, projections,
            () -> new ProjectedMatrix(r.get(), map, width, projections, parallel))));
        maps[s] = null;
      }
    }
    return List.copyOf(out);
  }

  /** An obsm key; sent sparse in {@code matrix_format: "csr"} when every store keeps it so. */
  private static MatrixColumnPlan obsmPlan(String key, List<StoreHandle> stores,
      ElementType dtype, boolean csr) {
    String element = StoreHandle.obsmElement(key);
    List<Optional<MatrixReader>> readers = readers(stores, element,
        s -> s.hasObsmKey(key), "obsm_keys", key);
    int[] widths = new int[stores.size()];
    Set<Integer> distinctWidths = new LinkedHashSet<>();
    for (int s = 0; s < stores.size(); s++) {
      if (readers.get(s).isPresent()) {
        checkRows(stores.get(s), readers.get(s).get());
        widths[s] = Math.toIntExact(readers.get(s).get().nCols());
        distinctWidths.add(widths[s]);
      }
    }
    Integer width = distinctWidths.size() == 1 ? distinctWidths.iterator().next() : null;
    ElementType type = dtype != null ? dtype : commonType(readers);
    boolean sparse = csr && readers.stream().flatMap(Optional::stream)
        .allMatch(r -> r.layout() != io.annflight.store.MatrixLayout.DENSE);
    return new MatrixColumnPlan(
        new OutputColumn.Matrix(OutputColumn.OBSM_PREFIX + key, type, width, sparse), readers,
        new int[stores.size()][], widths);
  }

  private static List<Optional<MatrixReader>> readers(List<StoreHandle> stores, String element,
      java.util.function.Predicate<StoreHandle> has, String what, String key) {
    List<Optional<MatrixReader>> readers = stores.stream()
        .map(s -> has.test(s) ? s.matrix(element) : Optional.<MatrixReader>empty())
        .toList();
    if (readers.stream().allMatch(Optional::isEmpty)) {
      throw new RequestException(what + " names \"" + key + "\" but no store has "
          + element);
    }
    return readers;
  }

  private static void checkRows(StoreHandle store, MatrixReader r) {
    if (r.nRows() != store.nObs()) {
      throw new MalformedStoreException(store.path(), r.elementPath(), "has " + r.nRows()
          + " rows but obs has " + store.nObs());
    }
  }

  private static ElementType commonType(List<Optional<MatrixReader>> readers) {
    return readers.stream().flatMap(Optional::stream).map(MatrixReader::elementType)
        .reduce(ElementType::promote).orElseThrow();
  }

  private static LabelColumnPlan labelPlan(String key, List<StoreHandle> stores,
      boolean encode, String unknownLabel, int dictionaryId) {
    List<Optional<ColumnData>> columns = stores.stream().map(s -> s.obsColumn(key)).toList();
    if (columns.stream().allMatch(Optional::isEmpty)) {
      throw new RequestException("obs_keys names \"" + key + "\" but no store has obs/" + key);
    }
    LabelType type = LabelValues.commonType(key,
        columns.stream().flatMap(Optional::stream).map(LabelValues::typeOf).toList());
    OutputColumn.Label column = new OutputColumn.Label(key, type, encode, dictionaryId);
    if (encode) {
      return new LabelColumnPlan(column, LabelEncoding.build(key, type,
          mergedCategories(columns, type), unknownLabel, columns), List.of(), stores);
    }
    return new LabelColumnPlan(column, null,
        columns.stream().map(c -> c.map(col -> PlainLabels.of(col, type))).toList(), stores);
  }

  /** Sorted union of the stores' categories (or distinct values) of one key. */
  static List<Object> mergedCategories(List<Optional<ColumnData>> columns, LabelType type) {
    Set<Object> union = new HashSet<>();
    columns.stream().flatMap(Optional::stream)
        .forEach(c -> union.addAll(LabelValues.categoriesOf(c, type)));
    return LabelValues.sorted(union);
  }
}
