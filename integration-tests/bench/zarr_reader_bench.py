#!/usr/bin/python3
"""Zarr reader benchmark: zarr-python 2 beside io.annflight.bench.ZarrReaderBenchmark.

Writes (once) a 50,000 x 2,000 CSR store (5% density), the same matrix dense and CSC, all with
anndata's default Zarr v2 compressor (Blosc lz4), and the dense matrix again as a Zarr v3
sharded store (shards of 8,192 rows holding the v2 store's chunks, blosc lz4 inner chunks,
crc32c index; written by tools/formats/zarr3.py). Reads X in 4,096-row blocks materialised as
dense float32 -- in order over all rows, and as sorted random row lists -- with zarr-python 2
(v2 stores; no zarr-python 3 is installable here, so the v3 figure has Java's v2 figure as its
peer), then runs the Java benchmark on every store in the same run, the CSC store twice: with
its row index and without (-Dannflight.csc.rowIndexBytes=0, the reader before the index).
The table and its plot go to --out (zarr-reader.md and .png); --rows makes a smaller matrix
(the stores are written once per size under the directory).
Run with Debian's /usr/bin/python3 (anndata 0.8, zarr 2.13) after `mvn -B -q package -DskipTests`:
    /usr/bin/python3 integration-tests/bench/zarr_reader_bench.py /tmp/zbench
"""
import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import zarr

import peers
import synthetic

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools/formats"))
import zarr3  # noqa: E402

N, M, DENSITY, BLOCK = 50_000, 2_000, 0.05, 4096
SHARD_ROWS = 8192


def make(out: Path):
    rng = np.random.default_rng(0)
    x = None
    obs = pd.DataFrame(index=[f"c{i}" for i in range(N)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(M)])
    for name, convert in (("csr.zarr", lambda m: m), ("dense.zarr", lambda m: m.toarray()),
                          ("csc.zarr", lambda m: m.tocsc())):
        if not (out / name).exists():
            x = synthetic.random_csr(N, M, DENSITY, np.random.default_rng(0)) if x is None else x
            synthetic.write_store(out / name, convert(x), obs, var, fmt="zarr")
    if not (out / "dense_v3_sharded.zarr").exists():
        write_v3_sharded(out / "dense.zarr", out / "dense_v3_sharded.zarr")


def write_v3_sharded(v2: Path, v3: Path):
    """The v2 dense store's X, obs and var index as Zarr v3, X sharded over the same chunks."""
    src = zarr.open(str(v2), mode="r")
    chunks = list(src["X"].chunks)
    shard = [max(chunks[0], SHARD_ROWS // chunks[0] * chunks[0]), chunks[1] * ((M + chunks[1] - 1) // chunks[1])]
    blosc = {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                "typesize": 4, "blocksize": 0}}
    le = {"name": "bytes", "configuration": {"endian": "little"}}
    zarr3.write_group(v3, {"encoding-type": "anndata", "encoding-version": "0.1.0"})
    for frame, names in (("obs", src["obs/_index"][:]), ("var", src["var/_index"][:])):
        zarr3.write_group(v3 / frame, {"_index": "_index", "column-order": [],
                                       "encoding-type": "dataframe", "encoding-version": "0.2.0"})
        zarr3.write_array(v3 / frame / "_index", np.asarray(names, dtype=object),
                          codecs=[{"name": "vlen-utf8"}, {"name": "zstd", "configuration": {"level": 3}}],
                          attributes={"encoding-type": "string-array", "encoding-version": "0.2.0"})
    zarr3.write_array(v3 / "X", src["X"][:], chunks=chunks, shard=shard, codecs=[le, blosc],
                      attributes={"encoding-type": "array", "encoding-version": "0.2.0"})
    print(f"wrote {v3}: X chunks {chunks} in shards {shard}")


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
    return best, rnd


def main():
    global N
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, nargs="?", default=Path("/tmp/zbench"))
    ap.add_argument("--rows", type=int, default=N)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    N = args.rows
    out = args.dir if N == 50_000 else args.dir / f"rows{N}"
    out.mkdir(parents=True, exist_ok=True)
    make(out)
    dense = zarr.open(str(out / "dense.zarr"), mode="r")["X"]
    py = {"v2 dense": bench("dense.zarr", dense, dense.shape[0], lambda a, b: dense[a:b],
                            lambda rows: dense.get_orthogonal_selection((rows, slice(None))))}
    csr = Csr(zarr.open(str(out / "csr.zarr"), mode="r")["X"])
    py["v2 CSR 5 %"] = bench("csr.zarr", csr, csr.shape[0], csr.rows, csr.take)
    jv = java(out)
    title = (f"{N:,} x {M:,} float32 Zarr stores, {BLOCK:,}-row blocks to dense float32 (reused"
             " buffers); random = sorted lists of 4,096 random rows; rows/s")
    lines = ["| store | zarr-python 2, sequential / random | annflight, sequential / random |"
             " annflight / zarr-python, sequential / random |", "|---|--:|--:|--:|"]
    bars = {}
    for label, (s, r) in jv.items():
        p = py.get(label)
        peer = f"{p[0]:,.0f} / {p[1]:,.0f}" if p else "-"
        ratios = f"{s / p[0]:.2f}x / {r / p[1]:.2f}x" if p else "-"
        lines.append(f"| {label} | {peer} | {s:,.0f} / {r:,.0f} | {ratios} |")
        if p:
            bars.update({f"{label}, zarr-python sequential": p[0],
                         f"{label}, zarr-python random": p[1]})
        bars.update({f"{label}, annflight sequential": s, f"{label}, annflight random": r})
    table = "\n".join(lines)
    print(f"\n{title}\n{table}")
    peers.write_outputs(args.out, "zarr-reader", title, table, bars, unit="rows/s")


JAVA_LINE = re.compile(r"sequential ([\d,]+) rows/s .*random sorted 4096-row lists ([\d,]+) rows/s")


def java(out: Path) -> dict:
    """The Java reader on the same stores, in this run (the CSC store with and without index):
    label -> (sequential, random) rows/s."""
    cp = f"{REPO}/flight-server/target/test-classes:{REPO}/flight-server/target/annflight-server.jar"
    labels = {"dense.zarr": "v2 dense", "dense_v3_sharded.zarr": "v3 dense, sharded",
              "csr.zarr": "v2 CSR 5 %", "csc.zarr": "v2 CSC, row index"}
    main = "io.annflight.bench.ZarrReaderBenchmark"
    runs = [([], list(labels)), (["-Dannflight.csc.rowIndexBytes=0", "-Dpasses=1"], ["csc.zarr"])]
    rates = {}
    for flags, names in runs:
        text = subprocess.run(["java", "-Xmx2g"] + flags + ["-cp", cp, main]
                              + [str(out / n) for n in names],
                              check=True, capture_output=True, text=True).stdout
        print(text, end="", flush=True)
        found = [JAVA_LINE.search(l) for l in text.splitlines()]
        found = [m for m in found if m]
        if len(found) != len(names):
            sys.exit(f"expected {len(names)} result lines from {main}, got: {text}")
        for n, m in zip(names, found):
            label = labels[n] if flags == [] else "v2 CSC, scanning (no row index)"
            rates[label] = tuple(float(g.replace(",", "")) for g in m.groups())
    return rates


if __name__ == "__main__":
    main()
