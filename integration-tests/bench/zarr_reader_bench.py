#!/usr/bin/python3
"""Zarr-python baseline for io.annflight.bench.ZarrReaderBenchmark.

Writes (once) a 50,000 x 2,000 CSR store (5% density) and the same matrix dense, both with
anndata's default Zarr compressor (Blosc lz4), then reads X in 4,096-row blocks materialised as
dense float32 -- in order over all rows, and as sorted random row lists -- and prints rows/s.
Run with Debian's /usr/bin/python3 (anndata 0.8, zarr 2.13):
    /usr/bin/python3 integration-tests/bench/zarr_reader_bench.py /tmp/zbench
"""
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import zarr

import synthetic

N, M, DENSITY, BLOCK = 50_000, 2_000, 0.05, 4096


def make(out: Path):
    if (out / "csr.zarr").exists() and (out / "dense.zarr").exists():
        return
    rng = np.random.default_rng(0)
    x = synthetic.random_csr(N, M, DENSITY, rng)
    obs = pd.DataFrame(index=[f"c{i}" for i in range(N)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(M)])
    synthetic.write_store(out / "csr.zarr", x, obs, var, fmt="zarr")
    synthetic.write_store(out / "dense.zarr", x.toarray(), obs, var, fmt="zarr")


class Csr:
    def __init__(self, g):
        self.indptr, self.indices, self.data = g["indptr"], g["indices"], g["data"]
        self.shape = tuple(g.attrs["shape"])

    def rows(self, a, b):
        ptr = self.indptr[a:b + 1]
        lo, hi = ptr[0], ptr[-1]
        m = sp.csr_matrix((self.data[lo:hi], self.indices[lo:hi], ptr - lo), shape=(b - a, self.shape[1]))
        return m.toarray()

    def take(self, rows):
        # zarr-python has no sparse fancy indexing: read the covering span once, then select.
        a, b = int(rows[0]), int(rows[-1]) + 1
        ptr = self.indptr[a:b + 1]
        m = sp.csr_matrix((self.data[ptr[0]:ptr[-1]], self.indices[ptr[0]:ptr[-1]], ptr - ptr[0]),
                          shape=(b - a, self.shape[1]))
        return m[rows - a].toarray()


def bench(name, x, n, rows_fn, take_fn, passes=3):
    rows_fn(0, BLOCK)  # warm-up
    best = 0.0
    for _ in range(passes):
        t = time.perf_counter()
        for a in range(0, n, BLOCK):
            d = np.asarray(rows_fn(a, min(n, a + BLOCK)), dtype=np.float32)
        best = max(best, n / (time.perf_counter() - t))
    rnd = 0.0
    for p in range(passes):
        rng = np.random.default_rng(p)
        t = time.perf_counter()
        for _ in range(20):
            rows = np.sort(rng.integers(0, n, BLOCK))
            d = np.asarray(take_fn(rows), dtype=np.float32)
        rnd = max(rnd, 20 * BLOCK / (time.perf_counter() - t))
    print(f"{name}: zarr-python sequential {best:,.0f} rows/s, random sorted 4096-row lists {rnd:,.0f} rows/s")


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/zbench")
    out.mkdir(parents=True, exist_ok=True)
    make(out)
    dense = zarr.open(str(out / "dense.zarr"), mode="r")["X"]
    bench("dense.zarr", dense, dense.shape[0], lambda a, b: dense[a:b],
          lambda rows: dense.get_orthogonal_selection((rows, slice(None))))
    csr = Csr(zarr.open(str(out / "csr.zarr"), mode="r")["X"])
    bench("csr.zarr", csr, csr.shape[0], csr.rows, csr.take)


if __name__ == "__main__":
    main()
