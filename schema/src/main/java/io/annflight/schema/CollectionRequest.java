package io.annflight.schema;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a client asks of a collection: MappedCollection's arguments plus how the index space is
 * split. Immutable. Either {@code collection} (a name configured on the server) or {@code paths}
 * (relative to the server's data root) names the stores.
 *
 * @param obsFilter values are String, Long, Double, Boolean or null (missing)
 * @param dtype null keeps the stores' common stored type
 * @param rowsPerEndpoint null: one endpoint per store, large stores split
 * @param rowsPerBatch null: as many rows as fit {@code bytesPerBatch}
 * @param bytesPerBatch the bytes a batch should hold when {@code rowsPerBatch} is null, from the
 *     stores' real row sizes; null: the server's default (a few MiB)
 * @param compression how batches are compressed on the wire (how, not what: plans ignore it)
 * @param epoch which rows, in which order (split, sampler, equal parts)
 * @param returnIndex adds the {@code _row} column: each row's collection row number
 * @param matrix the matrix columns' wire format and variable vocabulary
 */
public record CollectionRequest(
    String collection,
    List<String> paths,
    List<String> layersKeys,
    List<String> obsKeys,
    List<String> obsmKeys,
    Map<String, List<Object>> obsFilter,
    JoinMode join,
    EncodeLabels encodeLabels,
    UnknownLabel unknownLabel,
    ElementType dtype,
    Long rowsPerEndpoint,
    Integer rowsPerBatch,
    Long bytesPerBatch,
    Compression compression,
    EpochSpec epoch,
    boolean returnIndex,
    MatrixOptions matrix) {

  public CollectionRequest {
    Objects.requireNonNull(matrix, "matrix");
    paths = List.copyOf(paths);
    layersKeys = List.copyOf(layersKeys);
    obsKeys = List.copyOf(obsKeys);
    obsmKeys = List.copyOf(obsmKeys);
    Map<String, List<Object>> filter = new LinkedHashMap<>();
    obsFilter.forEach((k, v) -> filter.put(k, java.util.Collections.unmodifiableList(
        new java.util.ArrayList<>(v))));
    obsFilter = java.util.Collections.unmodifiableMap(filter);
    Objects.requireNonNull(join, "join");
    Objects.requireNonNull(encodeLabels, "encodeLabels");
    Objects.requireNonNull(unknownLabel, "unknownLabel");
    Objects.requireNonNull(compression, "compression");
    Objects.requireNonNull(epoch, "epoch");
    if (epoch.parts() != null && rowsPerEndpoint != null) {
      throw new RequestException("\"equal_parts\" decides the endpoints; leave out"
          + " \"rows_per_endpoint\"");
    }
    if (rowsPerEndpoint != null && rowsPerEndpoint <= 0) {
      throw new RequestException("rows_per_endpoint must be positive, got " + rowsPerEndpoint);
    }
    if (rowsPerBatch != null && rowsPerBatch <= 0) {
      throw new RequestException("rows_per_batch must be positive, got " + rowsPerBatch);
    }
    if (bytesPerBatch != null && bytesPerBatch <= 0) {
      throw new RequestException("bytes_per_batch must be positive, got " + bytesPerBatch);
    }
    if (rowsPerBatch != null && bytesPerBatch != null) {
      throw new RequestException("a request sizes its batches by \"rows_per_batch\" or by"
          + " \"bytes_per_batch\", not both");
    }
  }

  /** MappedCollection's defaults over the given paths. */
  public static CollectionRequest ofPaths(List<String> paths) {
    return new CollectionRequest(
        null, paths, List.of("X"), List.of(), List.of(), Map.of(), JoinMode.INNER,
        EncodeLabels.ALL, UnknownLabel.NONE, null, null, null, null, Compression.NONE,
        EpochSpec.COLLECTION_ORDER, false, MatrixOptions.DEFAULT);
  }

  public CollectionRequest withCollection(String name, List<String> resolvedPaths) {
    return new CollectionRequest(
        name, resolvedPaths, layersKeys, obsKeys, obsmKeys, obsFilter, join, encodeLabels,
        unknownLabel, dtype, rowsPerEndpoint, rowsPerBatch, bytesPerBatch, compression, epoch,
        returnIndex,
        matrix);
  }

  /** This request sending its matrices as {@code format}, uncompressed. */
  public CollectionRequest asUncompressed(MatrixFormat format) {
    return new CollectionRequest(
        collection, paths, layersKeys, obsKeys, obsmKeys, obsFilter, join, encodeLabels,
        unknownLabel, dtype, rowsPerEndpoint, rowsPerBatch, bytesPerBatch, Compression.NONE, epoch,
        returnIndex, new MatrixOptions(format, matrix.varNames(), matrix.varKey()));
  }

  /** The obs keys whose labels are integer-encoded. */
  public List<String> encodedObsKeys() {
    return encodeLabels.resolve(obsKeys);
  }
}
