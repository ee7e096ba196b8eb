package io.annflight.collection;

import java.nio.file.Path;
import java.util.List;

/**
 * What a client needs to know about one store of a plan.
 *
 * @param nObs rows it contributes (after obs_filter)
 * @param offset its first collection row
 * @param obsmKinds what each obsm element is ({@code array}, {@code csr_matrix},
 *     {@code dataframe}...), in the order of {@code obsm}
 * @param modalities MuData modalities under {@code mod} (each servable as path/mod/name)
 */
public record StoreInfo(Path path, String format, long nObs, long nVars, long offset,
    List<String> layers, List<String> obsm, List<String> obsColumns, boolean hasRaw,
    boolean hasX, List<String> obsmKinds, List<String> modalities) {}
