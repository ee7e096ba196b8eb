#!/usr/bin/python3
"""Sparse rows on the wire and gene projection, beside the dense figures, in one run.

On the throughput benchmark's collection (50,000 cells x 2,000 genes, CSR float32 at 5 %, two
.h5ad files; written once under --dir by synthetic.py), one warm server:

  dense, lz4       X as fixed-size lists, LZ4 on the wire, to a numpy matrix per batch
  csr              matrix_format "csr", to a scipy CSR matrix per batch (no copy of the values)
  csr, lz4         the same with LZ4

each reading every endpoint in order, plus the Arrow bytes per row of X (what travels without
compression). Then projection: a 20,000-gene store (20,000 cells, 5 %) read with var_names
selecting 2,000 of its genes (every tenth) beside a 2,000-gene store of the same cells and
density read whole; both csr to scipy, so the figure is what the projection costs. The server
keeps projected rows (--projection-cache-mb), so that figure is a later epoch's; the first
epoch of a projection is measured apart, on the warm server, with other 2,000 genes (every
tenth from the third, fifth and seventh) whose projections nothing has read yet: the median of
those three first epochs. The peer, lamindb's MappedCollection (peers.py), reads the dense
collection's rows one at a time (mc[i], random order, X and cell_type) in the same run.
The table and its plot go to --out (csr.md, csr.png).

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/csr_bench.py
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput_bench import OPTIONS, REPO, Server, matrix  # noqa: E402  (re-runs in the venv)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.flight as fl  # noqa: E402
from scipy import sparse  # noqa: E402

import peers  # noqa: E402
import synthetic  # noqa: E402

sys.path.insert(0, str(REPO / "python/src"))
from annflight.arrow import csr_matrix  # noqa: E402


PEER = "lamindb MappedCollection, mc[i] in random order (dense store, X + cell_type)"


def read_all(location, request, to_matrix):
    """(rows, Arrow bytes of X, seconds) reading every endpoint in order."""
    with fl.connect(location) as client:
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)),
                                      OPTIONS)
        t0 = time.perf_counter()
        rows = nbytes = 0
        for ep in info.endpoints:
            for chunk in client.do_get(ep.ticket, OPTIONS):
                col = chunk.data.column("X")
                m = to_matrix(col, chunk.data.schema.field("X"))
                rows += m.shape[0]
                nbytes += col.nbytes
        return rows, nbytes, time.perf_counter() - t0


def dense_numpy(col, field):
    return matrix(col)


def scipy_csr(col, field):
    return csr_matrix(col, field)


def best(fn, passes):
    runs = [fn() for _ in range(passes)]
    return max(runs, key=lambda r: r[0] / r[2])


def projection_stores(d: Path, cells: int, density: float):
    wide = d / f"proj_{cells}x20000_d{density:g}.h5ad"
    narrow = d / f"proj_{cells}x2000_d{density:g}.h5ad"
    rng = np.random.default_rng(7)
    obs = pd.DataFrame(index=[f"c{i}" for i in range(cells)])
    for path, m in ((wide, 20_000), (narrow, 2_000)):
        if not path.exists():
            X = synthetic.random_csr(cells, m, density, rng)
            tmp = path.with_name(path.name + ".partial")
            synthetic.write_store(tmp, X, obs, pd.DataFrame(index=[f"gene_{j}" for j in range(m)]))
            tmp.rename(path)
    return wide, narrow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench/throughput"))
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--cells", type=int, default=50_000)
    ap.add_argument("--genes", type=int, default=2_000)
    ap.add_argument("--proj-cells", type=int, default=20_000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=20.0)
    ap.add_argument("--peer-seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    colls = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05,
                                       ["csr", "dense"])
    wide, narrow = projection_stores(args.dir, args.proj_cells, 0.05)
    colls["wide"], colls["narrow"] = [wide], [narrow]
    server = Server(args.jar, colls, "", [])
    loc = server.location
    base = {"collection": "csr", "obs_keys": [], "obsm_keys": []}
    runs = {
        "dense, lz4 -> numpy": ({**base, "compression": "lz4"}, dense_numpy),
        "csr -> scipy CSR": ({**base, "matrix_format": "csr"}, scipy_csr),
        "csr, lz4 -> scipy CSR": ({**base, "matrix_format": "csr", "compression": "lz4"},
                                  scipy_csr),
    }
    selected = [f"gene_{j}" for j in range(0, 20_000, 10)]
    proj = {
        "2,000-gene store, whole": ({"collection": "narrow", "obs_keys": [], "obsm_keys": [],
                                     "matrix_format": "csr"}, scipy_csr),
        "20,000-gene store, var_names onto 2,000": (
            {"collection": "wide", "obs_keys": [], "obsm_keys": [], "matrix_format": "csr",
             "var_names": selected}, scipy_csr),
    }
    fresh = [{"collection": "wide", "obs_keys": [], "obsm_keys": [], "matrix_format": "csr",
              "var_names": [f"gene_{j}" for j in range(first, 20_000, 10)]}
             for first in (3, 5, 7)]
    try:
        end = time.time() + args.warmup
        while time.time() < end:
            for req, conv in list(runs.values()) + list(proj.values()):
                read_all(loc, req, conv)
        results = {name: best(lambda: read_all(loc, req, conv), args.passes)
                   for name, (req, conv) in {**runs, **proj}.items()}
        firsts = sorted((read_all(loc, req, scipy_csr) for req in fresh),
                        key=lambda r: r[0] / r[2])
        results["20,000-gene store, var_names onto another 2,000: first epoch"] = firsts[1]
    finally:
        server.stop()
    # lamindb reads the dense store, as its users' h5ad files mostly are (CSR costs it more).
    peer = peers.peer_rows(colls["dense"], "cell_type", args.peer_seconds)
    r = {k: v[0] / v[2] for k, v in results.items()}
    title = (f"{args.cells:,} cells x {args.genes:,} genes, 5 % CSR, 2 files; X only; warm"
             f" server; projection stores {args.proj_cells:,} cells")
    lines = ["| measurement | rows/s | / lamindb | Arrow bytes of X per row |",
             "|---|--:|--:|--:|"]
    lines += [f"| {name} | {r[name]:,.0f} | {peers.ratio(r[name], peer)} |"
              f" {nbytes / rows:,.0f} |" for name, (rows, nbytes, secs) in results.items()]
    if peer is not None:
        lines.append(f"| {PEER} | {peer:,.0f} | | |")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}")
    print(f"\ncsr / dense lz4: {r['csr -> scipy CSR'] / r['dense, lz4 -> numpy']:.2f}x;"
          f" csr lz4 / dense lz4: {r['csr, lz4 -> scipy CSR'] / r['dense, lz4 -> numpy']:.2f}x")
    narrow = r['2,000-gene store, whole']
    print(f"projection 2,000 of 20,000 / a 2,000-gene store: "
          f"{r['20,000-gene store, var_names onto 2,000'] / narrow:.2f}x (later epochs), "
          f"{r['20,000-gene store, var_names onto another 2,000: first epoch'] / narrow:.2f}x"
          f" (a projection's first epoch)")
    peers.write_outputs(args.out, "csr", title, table,
                        {**r, **({PEER: peer} if peer else {})}, unit="rows/s")


if __name__ == "__main__":
    main()
