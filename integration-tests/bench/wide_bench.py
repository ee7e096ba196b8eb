#!/usr/bin/env python3
"""Real widths: torch training input from a 62,710-gene collection, annflight beside lamindb's
own MappedCollection, in one run on the same files.

Writes (once, under --dir; never in the repository) 2 x 40,000 cells x 62,710 genes (Tahoe-
100M's width), X CSR float32 counts with 1,000-3,000 non-zeros per cell, obs cell_type (30
levels), with h5py in anndata's encoding. Starts the server jar with --data-root alone (the
stores are requested by `paths`, as MappedCollection(path_list) users do) and measures
samples/s in the steady state (persistent workers, after --warm seconds of batches, across
epochs), batches of 256 with X + cell_type, 0 and 2 DataLoader workers, and annflight's CPU
time per 1,000 samples (server JVM; client process and workers), which load disturbs least:

  annflight CSR        AnnflightDataset, matrix_format "csr": torch sparse CSR tensors
  annflight dense      AnnflightDataset, dense tensors (CSR rows on the wire, scattered here)
  annflight var_names  AnnflightDataset, dense tensors projected onto 2,000 of the genes
  lamindb peer         lamindb's MappedCollection in DataLoader(shuffle=True), same workers

annflight reads block-shuffled epochs, with every default of the dataset (message size,
compression, transport). --transport chooses how batches travel from the server (on this host)
to the dataset: "shm" (a ring of shared memory, the default for a loopback server), "grpc", or
both ("grpc,shm": measured back to back, each dataset's rows side by side). Prints the table with ratios to the peer at the same worker count and
writes <out>/wide.md and wide.png.

    mvn -B -q package -DskipTests
    integration-tests/target/venv/bin/python integration-tests/bench/wide_bench.py
"""
import argparse
import os
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


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    out.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return out


def measured_rate(loader, seconds: float, warm_seconds: float, server_pid: int) -> tuple:
    """(samples/s, server CPU ms per 1,000 samples, client CPU ms per 1,000 samples) of
    ``loader`` in the steady state (``peers.loader_rate``). CPU time (the server JVM; this
    process and its DataLoader workers, alive once the timing starts) is what a shared
    machine disturbs least: wall rates move with the other processes' load."""
    start = {}

    def on_timed():
        clients = [os.getpid()] + [p for p in _children(os.getpid()) if p != server_pid]
        start.update(clients=clients, t=time.perf_counter(), cpu=(
            _cpu_seconds(server_pid), sum(_cpu_seconds(p) for p in clients)))

    rate = peers.loader_rate(loader, seconds, warm_seconds, on_timed)
    samples = rate * (time.perf_counter() - start["t"])
    cpu = (_cpu_seconds(server_pid), sum(_cpu_seconds(p) for p in start["clients"]))
    server_ms, client_ms = (1e6 * (b - a) / samples for a, b in zip(start["cpu"], cpu))
    return rate, server_ms, client_ms


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
    ap.add_argument("--datasets", default="csr,dense,var_names",
                    help="which annflight rows to measure (comma-separated)")
    ap.add_argument("--no-peer", action="store_true",
                    help="skip lamindb's MappedCollection (for quick CPU-time comparisons)")
    ap.add_argument("--transport", default="shm",
                    help="shm, grpc or both (grpc,shm): the dataset's shared_memory True/False")
    ap.add_argument("--java-opt", action="append", default=[],
                    help="an extra JVM option for the server (repeatable)")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    if REPO in args.dir.resolve().parents:
        sys.exit("--dir must be outside the repository")
    paths = synthetic.wide_collection(args.dir, args.cells, args.files, args.min_nnz,
                                      args.max_nnz)
    names = [p.name for p in paths]
    genes = [f"gene_{j}" for j in np.linspace(0, GENES - 1, 2_000).astype(int)]
    requests = {
        "csr": ("annflight CSR",
                {"paths": names, "obs_keys": [OBS_KEY], "matrix_format": "csr"}),
        "dense": ("annflight dense", {"paths": names, "obs_keys": [OBS_KEY]}),
        "var_names": ("annflight var_names onto 2,000 genes",
                      {"paths": names, "obs_keys": [OBS_KEY], "var_names": genes}),
    }
    chosen = args.datasets.split(",")
    unknown = [d for d in chosen if d not in requests]
    if unknown:
        sys.exit(f"--datasets: unknown {unknown}; choose among {list(requests)}")
    requests = dict(requests[d] for d in chosen)
    transports = {"grpc": False, "shm": True}
    chosen_transports = args.transport.split(",")
    if not chosen_transports or any(t not in transports for t in chosen_transports):
        sys.exit(f"--transport: choose among {list(transports)}, got {args.transport!r}")
    if len(chosen_transports) > 1:  # rows by dataset and transport
        requests = {f"{name} ({t})": (r, transports[t])
                    for name, r in requests.items() for t in chosen_transports}
    else:
        requests = {name: (r, transports[chosen_transports[0]]) for name, r in requests.items()}
    workers = [int(w) for w in args.workers.split(",")]
    server = Server(args.jar, {}, "", args.java_opt, ["--data-root", str(args.dir)])
    results, cpu = {}, {}
    try:
        t_end = time.perf_counter() + args.server_warmup
        while time.perf_counter() < t_end:  # untimed: the server's JIT and page cache
            for r, shared in requests.values():
                for i, _ in enumerate(AnnflightDataset(r, uri=server.location,
                                                       sampler={"kind": "block_shuffle"},
                                                       shared_memory=shared)):
                    if i == 20 or time.perf_counter() > t_end:
                        break
        for w in workers:
            extra = {"multiprocessing_context": "spawn", "persistent_workers": True} if w else {}
            for name, (r, shared) in requests.items():
                ds = AnnflightDataset(r, uri=server.location, sampler={"kind": "block_shuffle"},
                                      shared_memory=shared)
                rate, server_ms, client_ms = measured_rate(
                    DataLoader(ds, batch_size=None, num_workers=w, **extra), args.seconds,
                    args.warm, server.proc.pid)
                results[name, w] = rate
                cpu[name, w] = (server_ms, client_ms)
                print(f"{name}, {w} workers: {rate:,.0f} samples/s; CPU ms per 1,000 samples:"
                      f" server {server_ms:.1f}, client {client_ms:.1f}", flush=True)
            if args.no_peer:
                continue
            results["lamindb MappedCollection, DataLoader(shuffle=True)", w] = peers.peer_loader(
                paths, OBS_KEY, w, args.seconds, args.warm)
            print(f"peer, {w} workers: {results['lamindb MappedCollection, DataLoader(shuffle=True)', w]}",
                  flush=True)
    finally:
        server.stop()
    report(results, cpu, workers, args)


def report(results, cpu, workers, args):
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
    lines += ["", "CPU time per 1,000 samples (ms; server JVM + client process and its workers):",
              "", "| dataset | " + " | ".join(f"{w} workers: server | client" for w in workers)
              + " |", "|---|" + "--:|--:|" * len(workers)]
    for name in dict.fromkeys(n for n, _ in cpu):
        cells = []
        for w in workers:
            c = cpu.get((name, w))
            cells += ["-", "-"] if c is None else [f"{c[0]:.1f}", f"{c[1]:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    peers.write_outputs(args.out, "wide", title, table,
                        {f"{n}, {w} workers": v for (n, w), v in results.items()})


if __name__ == "__main__":
    main()
