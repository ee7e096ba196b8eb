package io.annflight.collection;

import java.nio.file.Path;
import java.util.List;

/**
 * What a client needs to know about one store of a plan.
 *
 * @param nObs rows it contributes (after obs_filter)
 * @param offset its first collection row
 */
public record StoreInfo(Path path, String format, long nObs, long nVars, long offset,
    List<String> layers, List<String> obsm, List<String> obsColumns, boolean hasRaw) {}
