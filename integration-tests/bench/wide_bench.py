#!/usr/bin/env python3
"""Real widths: torch training input from a 62,710-gene collection, annflight beside lamindb's
own MappedCollection, in one run on the same files.

Writes (once, under --dir; never in the repository) 2 x 40,000 cells x 62,710 genes (Tahoe-
100M's width), X CSR float32 counts with 1,000-3,000 non-zeros per cell, obs cell_type (30
levels), with h5py in anndata's encoding. Starts the server jar with --data-root alone (the
stores are requested by `paths`, as MappedCollection(path_list) users do) and measures
samples/s in the steady state (persistent workers, after --warm seconds of batches, across
epochs), batches of 256 with X + cell_type, 0 and 2 DataLoader workers:

  annflight CSR        AnnflightDataset, matrix_format "csr": torch sparse CSR tensors
  annflight dense      AnnflightDataset, dense tensors (CSR rows on the wire, scattered here)
  annflight var_names  AnnflightDataset, dense tensors projected onto 2,000 of the genes
  lamindb peer         lamindb's MappedCollection in DataLoader(shuffle=True), same workers

annflight reads block-shuffled epochs, with every default of the dataset (message size,
compression, transport). Prints the table with ratios to the peer at the same worker count and
writes <out>/wide.md and wide.png.

    mvn -B -q package -DskipTests
    integration-tests/target/venv/bin/python integration-tests/bench/wide_bench.py
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput_bench import Server  # noqa: E402

import numpy as np  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import peers  # noqa: E402
import synthetic  # noqa: E402
from annflight.torch import AnnflightDataset  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GENES = synthetic.WIDE_GENES
OBS_KEY = "cell_type"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench/wide"))
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--cells", type=int, default=40_000, help="cells per file")
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--min-nnz", type=int, default=1_000)
    ap.add_argument("--max-nnz", type=int, default=3_000)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warm", type=float, default=5.0,
                    help="seconds of untimed batches before each measurement")
    ap.add_argument("--server-warmup", type=float, default=20.0,
                    help="seconds of untimed reading first (a long-running server is warm)")
    ap.add_argument("--workers", default="0,2")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    if REPO in args.dir.resolve().parents:
        sys.exit("--dir must be outside the repository")
    paths = synthetic.wide_collection(args.dir, args.cells, args.files, args.min_nnz,
                                      args.max_nnz)
    names = [p.name for p in paths]
    genes = [f"gene_{j}" for j in np.linspace(0, GENES - 1, 2_000).astype(int)]
    requests = {
        "annflight CSR": {"paths": names, "obs_keys": [OBS_KEY], "matrix_format": "csr"},
        "annflight dense": {"paths": names, "obs_keys": [OBS_KEY]},
        "annflight var_names onto 2,000 genes": {"paths": names, "obs_keys": [OBS_KEY],
                                                 "var_names": genes},
    }
    workers = [int(w) for w in args.workers.split(",")]
    server = Server(args.jar, {}, "", [], ["--data-root", str(args.dir)])
    results = {}
    try:
        t_end = time.perf_counter() + args.server_warmup
        while time.perf_counter() < t_end:  # untimed: the server's JIT and page cache
            for r in requests.values():
                for i, _ in enumerate(AnnflightDataset(r, uri=server.location,
                                                       sampler={"kind": "block_shuffle"})):
                    if i == 20 or time.perf_counter() > t_end:
                        break
        for w in workers:
            extra = {"multiprocessing_context": "spawn", "persistent_workers": True} if w else {}
            for name, r in requests.items():
                ds = AnnflightDataset(r, uri=server.location, sampler={"kind": "block_shuffle"})
                rate = peers.loader_rate(DataLoader(ds, batch_size=None, num_workers=w, **extra),
                                         args.seconds, args.warm)
                results[name, w] = rate
                print(f"{name}, {w} workers: {rate:,.0f} samples/s", flush=True)
            results["lamindb MappedCollection, DataLoader(shuffle=True)", w] = peers.peer_loader(
                paths, OBS_KEY, w, args.seconds, args.warm)
            print(f"peer, {w} workers: {results['lamindb MappedCollection, DataLoader(shuffle=True)', w]}",
                  flush=True)
    finally:
        server.stop()
    report(results, workers, args)


def report(results, workers, args):
    peer = "lamindb MappedCollection, DataLoader(shuffle=True)"
    title = (f"{args.files} x {args.cells:,} cells x {GENES:,} genes, CSR float32 with "
             f"{args.min_nnz:,}-{args.max_nnz:,} non-zeros per cell; batches of 256, X + "
             f"{OBS_KEY}; samples/s, steady state")
    lines = ["| dataset | " + " | ".join(f"{w} workers | / peer" for w in workers) + " |",
             "|---|" + "--:|--:|" * len(workers)]
    for name in dict.fromkeys(n for n, _ in results):
        cells = []
        for w in workers:
            v = results.get((name, w))
            cells += ["-" if v is None else f"{v:,.0f}",
                      "" if name == peer else peers.ratio(v, results.get((peer, w)))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    peers.write_outputs(args.out, "wide", title, table,
                        {f"{n}, {w} workers": v for (n, w), v in results.items()})


if __name__ == "__main__":
    main()
