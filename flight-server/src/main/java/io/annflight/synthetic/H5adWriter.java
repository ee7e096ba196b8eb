package io.annflight.synthetic;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.DatasetCreationOptions;
import io.jhdf.api.WritableGroup;
import io.jhdf.api.WritableNode;
import java.nio.file.Path;

/**
 * Writes a {@link SyntheticAnnData} as an {@code .h5ad} file in anndata's encoding (0.8+), with
 * jhdf's writer, laid out as anndata (through h5py) lays out its files: the CSR arrays chunked
 * ({@value #CSR_CHUNK} elements a chunk) and {@code indptr} int32 when it fits, everything else
 * contiguous, uncompressed.
 */
public final class H5adWriter {
  /** Elements a chunk of a CSR array; h5py picks chunks of this order for such arrays. */
  static final int CSR_CHUNK = 4_096;

  private H5adWriter() {}

  public static void write(SyntheticAnnData a, Path file) {
    try (WritableHdfFile f = HdfFile.write(file)) {
      encoding(f, "anndata", "0.1.0");
      WritableGroup obs = frame(f.putGroup("obs"), a.obsNames());
      obs.putAttribute("column-order", new String[] {"cell_type"});
      WritableGroup cellType = obs.putGroup("cell_type");
      encoding(cellType, "categorical", "0.2.0");
      byte[] codes = new byte[a.nObs()];
      for (int i = 0; i < codes.length; i++) {
        codes[i] = a.cellType(i);
      }
      encoding(cellType.putDataset("codes", codes), "array", "0.2.0");
      encoding(cellType.putDataset("categories", a.cellTypes()), "string-array", "0.2.0");
      frame(f.putGroup("var"), a.varNames()); // no columns: no column-order either
      if (a.csr()) {
        WritableGroup x = f.putGroup("X");
        encoding(x, "csr_matrix", "0.1.0");
        x.putAttribute("shape", new long[] {a.nObs(), a.nVars()});
        SyntheticAnnData.Csr csr = a.csrArrays();
        x.putDataset("data", csr.data(), chunked(csr.data().length));
        x.putDataset("indices", csr.indices(), chunked(csr.indices().length));
        long nnz = csr.indptr()[a.nObs()];
        // scipy (hence anndata) keeps indptr int32 while the count of non-zeros fits.
        x.putDataset("indptr", nnz <= Integer.MAX_VALUE ? toInts(csr.indptr()) : csr.indptr());
      } else {
        float[][] x = new float[a.nObs()][];
        for (int i = 0; i < x.length; i++) {
          x[i] = a.denseRow(i);
        }
        encoding(f.putDataset("X", x), "array", "0.2.0");
      }
      if (a.obsmColumns() > 0) {
        WritableGroup obsm = f.putGroup("obsm");
        encoding(obsm, "dict", "0.1.0");
        float[][] rows = new float[a.nObs()][];
        for (int i = 0; i < rows.length; i++) {
          rows[i] = a.obsmRow(i);
        }
        encoding(obsm.putDataset(SyntheticAnnData.OBSM_KEY, rows), "array", "0.2.0");
      }
    }
  }

  private static DatasetCreationOptions chunked(int length) {
    return DatasetCreationOptions.builder().chunkDimensions(Math.max(1, Math.min(CSR_CHUNK,
        length))).build();
  }

  private static int[] toInts(long[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Math.toIntExact(values[i]);
    }
    return out;
  }

  private static WritableGroup frame(WritableGroup g, String[] index) {
    encoding(g, "dataframe", "0.2.0");
    g.putAttribute("_index", "_index");
    encoding(g.putDataset("_index", index), "string-array", "0.2.0");
    return g;
  }

  private static void encoding(WritableNode node, String type, String version) {
    node.putAttribute("encoding-type", type);
    node.putAttribute("encoding-version", version);
  }
}
