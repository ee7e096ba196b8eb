package io.annflight.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.annflight.store.AnnDataStore;
import io.annflight.store.AnnDataStores;
import io.annflight.testing.FuzzScratch;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fuzzes opening and reading {@code .h5ad} files through the project's readers (jhdf for the
 * HDF5 structure; the project's own contiguous and chunked readers, vlen-string, LZF, shuffle and
 * compound decoding). An input is a whole file; the seeds (src/test/resources/.../
 * H5adFuzzTestInputs) are small files of every layout the readers know: vlen strings, LZF,
 * gzip + shuffle, compound (anndata 0.6) frames, CSR, and the chunk indexes of both HDF5 file
 * format versions. See docs/development/fuzzing.md.
 */
class H5adFuzzTest {
  private static final Path SCRATCH = FuzzScratch.create("annflight-h5ad-fuzz");
  /** Each input gets a file of its own: caches keyed by path must never see an older input. */
  private static final AtomicLong INPUTS = new AtomicLong();

  @FuzzTest(maxExecutions = 2_000, maxDuration = "30m")
  void openAndRead(byte[] input) {
    Path file = SCRATCH.resolve("in-" + INPUTS.incrementAndGet() + ".h5ad");
    FuzzScratch.write(file, input);
    try {
      FuzzReads.answer(() -> {
        try (AnnDataStore store = AnnDataStores.open(file)) {
          FuzzReads.readStore(store);
        }
      });
    } finally {
      FuzzScratch.delete(file);
    }
  }
}
