#!/usr/bin/python3
"""Reader benchmark: h5py (or zarr) vs annflight's Java reader on the same synthetic stores.

Writes a 50,000 x 2,000 float32 collection as CSR (5 % density), dense and CSC under --dir
(default /tmp/annflight-bench; never inside the repository), then reads X in blocks of 4,096
rows materialised as dense float32 numpy arrays, and runs io.annflight.bench.ReaderBenchmark on
the same files (float[] blocks). Prints rows/s for both and the Java/Python ratio.

Run with Debian's /usr/bin/python3 (anndata, h5py, scipy). `--format zarr` benchmarks Zarr
stores the same way (zarr-python 2 as the peer). The table and its plot go to --out
(reader-<format>.md and .png).
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

import peers
import synthetic

REPO = Path(__file__).resolve().parents[2]


def make_stores(d: Path, n: int, m: int, density: float, fmt: str):
    d.mkdir(parents=True, exist_ok=True)
    paths = {k: d / f"bench_{k}_{n}x{m}.{fmt}" for k in ("csr", "dense", "csc")}
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(0)
    X = synthetic.random_csr(n, m, density, rng)
    obs = pd.DataFrame(index=[f"c{i}" for i in range(n)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(m)])
    for kind, matrix in (("csr", X), ("dense", X.toarray()), ("csc", X.tocsc())):
        synthetic.write_store(paths[kind], matrix, obs, var, fmt=fmt)
    return paths


def open_x(path: Path, fmt: str):
    if fmt == "h5ad":
        return h5py.File(path, "r")["X"]
    import zarr
    return zarr.open(str(path), mode="r")["X"]


def time_python(path: Path, fmt: str, block: int, passes: int) -> float:
    x = open_x(path, fmt)
    sparse = not hasattr(x, "shape")
    if sparse:
        n, m = (int(v) for v in x.attrs["shape"])
        indptr_all = x["indptr"][:]
    else:
        n, m = x.shape
    best = float("inf")
    for _ in range(passes):
        t0 = time.perf_counter()
        for s in range(0, n, block):
            e = min(n, s + block)
            if sparse:
                ptr = indptr_all[s:e + 1]
                lo, hi = int(ptr[0]), int(ptr[-1])
                blk = sp.csr_matrix((x["data"][lo:hi], x["indices"][lo:hi], ptr - lo),
                                    shape=(e - s, m)).toarray()
            else:
                blk = np.asarray(x[s:e], dtype=np.float32)
            assert blk.dtype == np.float32 and blk.shape == (e - s, m)
        best = min(best, time.perf_counter() - t0)
    return n / best


def java_classpath() -> str:
    subprocess.run(["mvn", "-q", "-B", "-o", "-pl", "flight-server", "-am", "test-compile"],
                   cwd=REPO, check=True)
    out = Path("/tmp/annflight-bench-cp.txt")
    subprocess.run(["mvn", "-q", "-B", "-o", "-pl", "flight-server", "dependency:build-classpath",
                    "-Dmdep.includeScope=test", f"-Dmdep.outputFile={out}"], cwd=REPO, check=True)
    target = REPO / "flight-server" / "target"
    return f"{target / 'classes'}:{target / 'test-classes'}:{out.read_text().strip()}"


def time_java(paths, fmt: str, block: int, passes: int, jvm_args: str):
    # A preset, pre-touched heap: Java must zero every new float[] (numpy reuses freed malloc
    # memory without zeroing); pre-touching at least spares the page faults of a growing heap.
    cmd = ["java"] + jvm_args.split() + ["-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
           "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", java_classpath(),
           "io.annflight.bench.ReaderBenchmark", "--format", fmt, "--block", str(block),
           "--passes", str(passes)] + [str(p) for p in paths]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rates, reused = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("RESULT", "REUSED"):
            (rates if parts[0] == "RESULT" else reused)[parts[1]] = float(parts[5])
    return rates, reused


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench"))
    ap.add_argument("--format", choices=["h5ad", "zarr"], default="h5ad")
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--cols", type=int, default=2_000)
    ap.add_argument("--density", type=float, default=0.05)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--jvm-args", default="-Xms4g -Xmx4g -XX:+AlwaysPreTouch")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    if REPO in args.dir.resolve().parents:
        sys.exit("--dir must be outside the repository")

    paths = make_stores(args.dir, args.rows, args.cols, args.density, args.format)
    java, reused = time_java([paths[k] for k in ("csr", "dense", "csc")], args.format,
                             args.block, args.passes, args.jvm_args)
    peer = "h5py" if args.format == "h5ad" else "zarr-python"
    title = (f"{args.rows:,} x {args.cols:,} float32, {args.density:.0%} density, "
             f"{args.block:,}-row blocks to dense float32, best of {args.passes} passes")
    lines = [f"| store | {peer}, same run | annflight, fresh | annflight / {peer} |"
             " annflight, reused buffer |", "|---|--:|--:|--:|--:|"]
    bars = {}
    for kind in ("csr", "dense", "csc"):
        # h5py and zarr-python have no row path for CSC: only the Java reader reads it by row.
        py = time_python(paths[kind], args.format, args.block,
                         args.passes) if kind != "csc" else None
        jv, ru = java[paths[kind].name], reused[paths[kind].name]
        label = f"{args.format} {kind}"
        lines.append(f"| {label} | {f'{py:,.0f}' if py else '-'} | {jv:,.0f} |"
                     f" {f'{jv / py:.2f}x' if py else '-'} | {ru:,.0f} |")
        bars.update({f"{label}, {peer}": py, f"{label}, annflight fresh": jv,
                     f"{label}, annflight reused": ru})
    table = "\n".join(lines)
    print(f"{title} (rows/s)\n{table}")
    print(f"java CSC slowdown vs CSR: {java[paths['csr'].name] / java[paths['csc'].name]:.1f}x")
    peers.write_outputs(args.out, f"reader-{args.format}", title, table, bars, unit="rows/s")

if __name__ == "__main__":
    main()
