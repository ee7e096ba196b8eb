#!/usr/bin/python3
"""Epochs planned by the server beside the peers' shuffled and weighted epochs, in one run.

Uses the throughput benchmark's collection (synthetic.py; written once under --dir: 50,000
cells x 2,000 genes in 2 .h5ad files, CSR 5 % and dense, obs cell_type with 30 skewed levels,
obsm X_pca). Starts the server jar and reads whole epochs with pyarrow.flight into numpy (X,
cell_type codes, X_pca), lz4 batches, one client thread, `return_index` on:

  sequential       the collection order
  block_shuffle    the defaults (block_size 64, pool_blocks 128), or each --sweep setting
  shuffle          a uniform permutation
  weighted         weights 1/count of cell_type (label-balanced), with replacement

and on the same files the peer, lamindb's own MappedCollection (../shared/peers/lamindb; skipped
with a message when absent), one row at a time in a random permutation (what
DataLoader(shuffle=True) asks of it) and in rows drawn by WeightedRandomSampler from
get_label_weights (numpy with the same weights). Writes <out>/sampling.md and .png.

For every epoch it prints rows/s and the mixing figure: the mean number of distinct 1,000-row
ranges of the collection among each 256 consecutive rows (uniform sampling gives about 49.7
here), computed from `_row` (the peers: from the row order they read in). Targets: block_shuffle
>= 0.7x the sequential epoch with >= 40 ranges per 256 rows; weighted >= 50x the peer's.

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/sampling_bench.py [--sweep]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput_bench import (OBS_KEY, OBSM_KEY, OPTIONS, H5Store, Server,  # noqa: E402
                              add_collection_args, batch_to_numpy)

import numpy as np  # noqa: E402
import pyarrow.flight as fl  # noqa: E402

import peers  # noqa: E402
import synthetic  # noqa: E402

WINDOW, RANGE = 256, 1000
PEER_SHUFFLED = "lamindb MappedCollection + DataLoader(shuffle=True)"
PEER_WEIGHTED = "lamindb MappedCollection + WeightedRandomSampler"


def mixing(rows: np.ndarray) -> float:
    """Mean distinct RANGE-row ranges per WINDOW consecutive rows of an epoch."""
    n = len(rows) // WINDOW * WINDOW
    ranges = (rows[:n] // RANGE).reshape(-1, WINDOW)
    return float(np.mean([len(np.unique(w)) for w in ranges]))


def request(name: str, sampler) -> dict:
    r = {"collection": name, "obs_keys": [OBS_KEY], "obsm_keys": [OBSM_KEY],
         "compression": "lz4", "return_index": True}
    if sampler is not None:
        r["sampler"] = sampler
    return r


def annflight_epoch(location: str, name: str, sampler) -> tuple:
    """(rows/s, mixing) of one whole epoch read to numpy."""
    with fl.connect(location) as client:
        info = client.get_flight_info(
            fl.FlightDescriptor.for_command(json.dumps(request(name, sampler))), OPTIONS)
        t0 = time.perf_counter()
        order = []
        for ep in info.endpoints:
            for chunk in client.do_get(ep.ticket, OPTIONS):
                x, codes, pca = batch_to_numpy(chunk.data)
                order.append(chunk.data.column("_row").to_numpy())
        dt = time.perf_counter() - t0
    rows = np.concatenate(order)
    return len(rows) / dt, mixing(rows)


def peer_epoch(paths, order: np.ndarray, seconds: float) -> tuple:
    """lamindb's MappedCollection (X, cell_type, X_pca), one row at a time in the given
    collection-row order (what DataLoader's samplers ask of it), for `seconds`; (None,
    mixing) without the peer."""
    cls = peers.peer_class()
    if cls is None:
        return None, mixing(order)
    with cls([str(p) for p in paths], obs_keys=[OBS_KEY], obsm_keys=[OBSM_KEY]) as mc:
        mc[int(order[0])]  # opens the stores
        deadline = time.perf_counter() + seconds
        t0 = time.perf_counter()
        done = 0
        for row in order:
            mc[int(row)]
            done += 1
            if done % 64 == 0 and time.perf_counter() > deadline:
                break
        return done / (time.perf_counter() - t0), mixing(order)


def label_weights(paths) -> np.ndarray:
    """get_label_weights([cell_type]): 1 / count of each row's label, over the collection."""
    codes = []
    for p in paths:
        st = H5Store(p)
        cats = [c.decode() if isinstance(c, bytes) else str(c)
                for c in st.f["obs"][OBS_KEY]["categories"][:]]
        codes.extend(cats[c] for c in st.codes[:])
    labels = np.array(codes)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_collection_args(ap)
    ap.add_argument("--layouts", default="csr,dense")
    ap.add_argument("--warmup", type=float, default=20.0)
    ap.add_argument("--peer-seconds", type=float, default=10.0)
    ap.add_argument("--sweep", action="store_true", help="block_size x pool_blocks grid")
    ap.add_argument("--xmx", default=None)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()

    layouts = args.layouts.split(",")
    paths = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05,
                                       layouts=tuple(layouts))
    server = Server(args.jar, paths, args.xmx, [])
    results = {}
    try:
        for lay in layouts:
            name = lay
            t_end = time.perf_counter() + args.warmup
            while time.perf_counter() < t_end:  # untimed: JIT, caches
                annflight_epoch(server.location, name, {"kind": "block_shuffle"})
                annflight_epoch(server.location, name, None)
            weighted = {"kind": "weighted", "seed": 1,
                        "weights": {"obs_keys": [OBS_KEY], "scaler": None}}
            runs = {"annflight sequential": None,
                    "annflight block_shuffle (defaults)": {"kind": "block_shuffle", "seed": 1},
                    "annflight shuffle": {"kind": "shuffle", "seed": 1},
                    "annflight weighted (1/count, with replacement)": weighted}
            if args.sweep:
                for b in (16, 32, 64, 128, 256):
                    for pool in (32, 64, 128, 256):
                        runs[f"annflight block_shuffle b={b} pool={pool}"] = {
                            "kind": "block_shuffle", "seed": 1, "block_size": b,
                            "pool_blocks": pool}
            for label, sampler in runs.items():
                results[(label, lay)] = max((annflight_epoch(server.location, name, sampler)
                                             for _ in range(2)), key=lambda r: r[0])
            n = args.cells
            rng = np.random.default_rng(1)
            results[(PEER_SHUFFLED, lay)] = peer_epoch(
                paths[lay], rng.permutation(n), args.peer_seconds)
            w = label_weights(paths[lay])
            drawn = rng.choice(n, size=n, replace=True, p=w / w.sum())
            results[(PEER_WEIGHTED, lay)] = peer_epoch(
                paths[lay], drawn, args.peer_seconds)
            results[("uniform sampling (reference)", lay)] = (float("nan"),
                                                             mixing(rng.permutation(n)))
    finally:
        server.stop()

    labels = list(dict.fromkeys(k[0] for k in results))
    title = (f"{args.cells:,} cells x {args.genes:,} genes, X + cell_type + X_pca as numpy, lz4;"
             f" rows/s and distinct {RANGE}-row ranges per {WINDOW} rows")
    lines = ["| epoch | " + " | ".join(f"{lay} rows/s | {lay} mixing" for lay in layouts)
             + " |", "|---|" + "---:|---:|" * len(layouts)]
    for label in labels:
        cells = []
        for lay in layouts:
            rate, mix = results[(label, lay)]
            cells += ["-" if rate is None else "" if rate != rate else f"{rate:,.0f}",
                      f"{mix:.1f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for lay in layouts:
        seq = results[("annflight sequential", lay)][0]
        blk, mix = results[("annflight block_shuffle (defaults)", lay)]
        wgt = results[("annflight weighted (1/count, with replacement)", lay)][0]
        peer_w = results[(PEER_WEIGHTED, lay)][0]
        peer_s = results[(PEER_SHUFFLED, lay)][0]
        lines.append(f"- {lay}: block_shuffle / sequential {blk / seq:.2f}x at {mix:.1f} ranges"
                     f" (targets 0.7x, 40); weighted / lamindb + WeightedRandomSampler"
                     f" {peers.ratio(wgt, peer_w)} (target 50x); block_shuffle / lamindb +"
                     f" DataLoader(shuffle=True) {peers.ratio(blk, peer_s)}")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    peers.write_outputs(args.out, "sampling", title, table, {
        f"{label}, {lay}": results[(label, lay)][0] for label in labels for lay in layouts
        if results[(label, lay)][0] == results[(label, lay)][0]}, unit="rows/s")


if __name__ == "__main__":
    main()
