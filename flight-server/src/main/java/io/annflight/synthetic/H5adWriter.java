package io.annflight.synthetic;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import io.jhdf.api.WritableNode;
import java.nio.file.Path;

/**
 * Writes a {@link SyntheticAnnData} as an {@code .h5ad} file in anndata's encoding (0.8+), with
 * jhdf's writer: uncompressed, contiguous datasets.
 */
public final class H5adWriter {
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
        x.putDataset("data", csr.data());
        x.putDataset("indices", csr.indices());
        x.putDataset("indptr", csr.indptr());
      } else {
        float[][] x = new float[a.nObs()][];
        for (int i = 0; i < x.length; i++) {
          x[i] = a.denseRow(i);
        }
        encoding(f.putDataset("X", x), "array", "0.2.0");
      }
    }
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
