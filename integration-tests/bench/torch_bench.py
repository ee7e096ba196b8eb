#!/usr/bin/env python3
"""PyTorch training input, in one run on the same files: the package's datasets beside
lamindb's own MappedCollection in DataLoader(shuffle=True).

Uses the throughput benchmark's collection (synthetic.py, under --dir; written when missing)
and measures samples/s delivered as tensors (X [256, 2000] float32 and cell_type codes), plus
the mixing figure (distinct 1,000-row ranges per batch of 256; uniform gives about 49.7):

  annflight.torch.AnnflightDataset, block_shuffle      num_workers 0 and 2
  annflight.MappedCollection, DataLoader(shuffle=True)  num_workers 0 and 2 (__getitems__)
  lamindb's MappedCollection (../shared/peers/lamindb), DataLoader(shuffle=True)
                                                        num_workers 0 and 2

Workers are persistent; rates are the steady state. Prints the table with each rate's ratio
to lamindb's MappedCollection at the same worker count, and writes <out>/torch.md and .png.

Needs torch: run it with the test venv's python (integration-tests/target/venv, made by
run-pytest.sh) after `mvn -B -q package -DskipTests`:
    integration-tests/target/venv/bin/python integration-tests/bench/torch_bench.py
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput_bench import OBS_KEY, Server, add_collection_args  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import annflight  # noqa: E402
import peers  # noqa: E402
import synthetic  # noqa: E402
from annflight.torch import AnnflightDataset  # noqa: E402

BATCH = 256
PEER = "lamindb MappedCollection, DataLoader(shuffle=True)"


def mixing(rows: np.ndarray) -> float:
    n = len(rows) // BATCH * BATCH
    return float(np.mean([len(np.unique(w)) for w in (rows[:n] // 1000).reshape(-1, BATCH)]))


def endless(loader, dataset):
    """The loader's batches epoch after epoch (set_epoch between them, as a training loop)."""
    epoch = 0
    while True:
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        yield from loader
        epoch += 1


def measure(loader, seconds: float, warm_seconds: float = 3.0):
    """(samples/s, mixing) in the steady state: after `warm_seconds` of batches (the workers
    started and connected, the server's epoch planned), whole batches for `seconds`, across
    epochs. Workers are persistent, as a training loop keeps them, so an epoch boundary costs
    no new processes."""
    it = endless(loader, loader.dataset)
    t_warm = time.perf_counter() + warm_seconds
    for _ in it:
        if time.perf_counter() > t_warm:
            break
    rows, t0, n = [], time.perf_counter(), 0
    for batch in it:
        x = batch["X"]
        assert x.dtype == torch.float32
        if "_row" in batch:
            rows.append(np.asarray(batch["_row"]))
        n += len(x)
        if time.perf_counter() - t0 > seconds:
            break
    dt = time.perf_counter() - t0
    # Without _row (annflight.MappedCollection) the order is torch's RandomSampler: uniform.
    return n / dt, mixing(np.concatenate(rows)) if rows else float("nan")


def _rate_text(rate) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def summary(measured: list) -> tuple:
    """(median samples/s, its rounds' range as text, median mixing) of one contender's rounds
    of (samples/s, mixing); None for the rate when the peer is missing."""
    rates = [r for r, _ in measured if r is not None]
    if not rates:
        return None, "-", float("nan")
    mixes = [m for _, m in measured if m == m]
    spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else "1"
    return (float(np.median(rates)), spread,
            float(np.median(mixes)) if mixes else float("nan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_collection_args(ap)
    ap.add_argument("--layout", default="csr")
    ap.add_argument("--seconds", type=float, default=15.0, help="timed seconds per round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of every contender in turn; figures are medians")
    ap.add_argument("--server-warmup", type=float, default=40.0,
                    help="seconds of untimed whole epochs first (a long-running server is warm)")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    paths = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05,
                                       layouts=(args.layout,))
    server = Server(args.jar, paths, None, [])
    request = {"collection": args.layout, "obs_keys": [OBS_KEY], "obsm_keys": []}
    spawn = {"multiprocessing_context": "spawn", "persistent_workers": True}
    results = {}
    try:
        warm = AnnflightDataset(request, uri=server.location, batch_size=BATCH,
                                sampler={"kind": "block_shuffle"})
        t_end = time.perf_counter() + args.server_warmup
        epoch = 0
        while time.perf_counter() < t_end:  # untimed whole epochs: the server's JIT
            warm.set_epoch(epoch)
            for _ in warm:
                pass
            epoch += 1
        for workers in (0, 2):
            extra = spawn if workers else {}
            ds = AnnflightDataset(request, uri=server.location, batch_size=BATCH,
                                  sampler={"kind": "block_shuffle"})
            loader = DataLoader(ds, batch_size=None, num_workers=workers, **extra)
            mc = annflight.MappedCollection(collection=args.layout, obs_keys=OBS_KEY,
                                            uri=server.location)
            mc_loader = DataLoader(mc, batch_size=BATCH, shuffle=True, num_workers=workers,
                                   **extra)
            # Rounds in turn, so that a slow or fast spell of the machine (or of the peer)
            # falls on every contender alike; each figure is its median.
            for r in range(args.rounds):
                for key, run in (
                        (f"annflight.torch.AnnflightDataset block_shuffle, {workers} workers",
                         lambda: measure(loader, args.seconds)),
                        (f"annflight.MappedCollection, DataLoader(shuffle=True), {workers}"
                         " workers", lambda: measure(mc_loader, args.seconds)),
                        (PEER + f", {workers} workers", lambda: (peers.peer_loader(
                            paths[args.layout], OBS_KEY, workers, args.seconds),
                            float("nan")))):
                    results.setdefault(key, []).append(run())
                    print(f"round {r + 1}/{args.rounds}: {key}: "
                          f"{_rate_text(results[key][-1][0])} samples/s", flush=True)
            del loader, mc_loader  # their persistent workers end here
    finally:
        server.stop()
    title = (f"{args.cells:,} cells x {args.genes:,} genes ({args.layout}), batches of {BATCH}"
             " as tensors; samples/s, ratio to lamindb's MappedCollection at the same worker"
             f" count, and distinct 1,000-row ranges per batch; the median of {args.rounds}"
             " rounds taken in turn")
    rounds = {k: summary(v) for k, v in results.items()}
    lines = ["| dataset | samples/s (median) | rounds' range | / lamindb | mixing |",
             "|---|--:|--:|--:|--:|"]
    for k, (rate, spread, mix) in rounds.items():
        peer = rounds.get(PEER + ", " + k.rsplit(", ", 1)[1], (None,))[0]
        shown = "uniform (RandomSampler)" if mix != mix else f"{mix:.1f}"
        lines.append(f"| {k} | {_rate_text(rate)} | {spread} |"
                     f" {'' if k.startswith(PEER) else peers.ratio(rate, peer)} | {shown} |")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    peers.write_outputs(args.out, "torch", title, table,
                        {k: rate for k, (rate, _, _) in rounds.items()})


if __name__ == "__main__":
    main()
