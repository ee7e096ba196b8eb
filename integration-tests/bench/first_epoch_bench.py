#!/usr/bin/python3
"""The first epoch of a freshly started server beside a warm one, in one run, with lamindb's
MappedCollection as the peer.

On the throughput benchmark's collection (50,000 cells x 2,000 genes, CSR float32 at 5 %, two
.h5ad files), for each of --runs fresh servers started with --data-root alone (no configured
collection: the warm-up streams the small stores the server writes itself): read one epoch of a
`paths` request at once (every endpoint in order, X + cell_type + X_pca to numpy, lz4), then
keep reading for --warmup seconds and read three more epochs (warm: their median). Prints rows/s
of both, their ratio (target >= 0.6x; the median over the runs too), the server's CPU seconds
in each (the JIT's compiler threads included: less disturbed by a loaded machine than wall time)
and the part its compiler threads used,
and lamindb's MappedCollection one row at a time on the same files; writes
<out>/first-epoch.md and .png.

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/first_epoch_bench.py [--java-opt ...]
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_bench as tb  # noqa: E402  (re-runs itself in the bench venv)

import pyarrow.flight as fl  # noqa: E402

import peers  # noqa: E402
import synthetic  # noqa: E402


def server_cpu(server) -> float:
    """CPU seconds (user + sys, every thread: the JIT's too) the server process has used."""
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def jit_cpu(pid) -> float:
    """CPU seconds the JIT's compiler threads (C1 and C2) have used; a compiler thread that
    exited takes its share with it, so compare neighbouring epochs."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended
        if stat[stat.index("(") + 1:].startswith(("C1 CompilerThre", "C2 CompilerThre")):
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def paths_epoch(server, paths) -> tuple:
    """(rows/s, server CPU seconds, of which the JIT's compiler threads) of one epoch of a
    `paths` request, every endpoint in order, to numpy."""
    request = {"paths": [p.name for p in paths], "obs_keys": [tb.OBS_KEY],
               "obsm_keys": [tb.OBSM_KEY], "compression": "lz4"}
    pid = server.proc.pid
    with fl.connect(server.location) as client:
        cpu0, jit0, t0 = server_cpu(server), jit_cpu(pid), time.perf_counter()
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)),
                                      tb.OPTIONS)
        rows = sum(tb.drain(client, ep.ticket)[0] for ep in info.endpoints)
        return (rows / (time.perf_counter() - t0), server_cpu(server) - cpu0,
                jit_cpu(pid) - jit0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tb.add_collection_args(ap)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=30.0)
    ap.add_argument("--layout", default="csr")
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--server-warmup", type=int, action="append", default=None,
                    help="the server's --warmup-seconds (repeatable; default: 0 and 5)")
    ap.add_argument("--peer-seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    colls = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05, [args.layout])
    paths = colls[args.layout]
    rows = []
    for run in range(args.runs):
        for warmup in args.server_warmup or [0, 5]:
            t0 = time.time()
            server = tb.Server(args.jar, {}, "", args.java_opt,
                               ["--data-root", str(args.dir), "--warmup-seconds", str(warmup)])
            started = time.time() - t0
            try:
                first, first_cpu, first_jit = paths_epoch(server, paths)
                end = time.time() + args.warmup
                while time.time() < end:
                    paths_epoch(server, paths)
                # A typical warm epoch (the median of three), measured as the first one was:
                # not the best of several, which would pick the one least disturbed by load.
                warms = [paths_epoch(server, paths) for _ in range(3)]
                warm = statistics.median(r for r, _, _ in warms)
                warm_cpu = statistics.median(c for _, c, _ in warms)
                warm_jit = statistics.median(j for _, _, j in warms)
            finally:
                server.stop()
            rows.append((run, warmup, started, first, warm, (first_cpu, first_jit),
                         (warm_cpu, warm_jit)))
            print(f"run {run}, --warmup-seconds {warmup}: serving after {started:.1f} s;"
                  f" first epoch {first:,.0f} rows/s, warm {warm:,.0f} rows/s:"
                  f" first/warm {first / warm:.2f}; server CPU {first_cpu:.2f} s /"
                  f" {warm_cpu:.2f} s (JIT compiler threads {first_jit:.2f} s /"
                  f" {warm_jit:.2f} s)", flush=True)
    peer = tb.lamindb_rows(paths, True, args.peer_seconds)
    peer_rate = peer[0] / peer[2] if peer else None
    title = (f"First epoch of a `paths` request on a fresh server started with --data-root"
             f" only, {args.cells:,} cells x {args.genes:,} genes ({args.layout}), X +"
             f" cell_type + X_pca to numpy, lz4; rows/s")
    lines = ["| run | --warmup-seconds | serving after | first epoch | warm | first / warm"
             " | server CPU s, first / warm | of which JIT compiler threads"
             " | first / lamindb |",
             "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for run, warmup, started, first, warm, (first_cpu, first_jit), (warm_cpu, warm_jit) \
            in rows:
        lines.append(f"| {run} | {warmup} | {started:.1f} s | {first:,.0f} | {warm:,.0f} |"
                     f" {first / warm:.2f} | {first_cpu:.2f} / {warm_cpu:.2f} |"
                     f" {first_jit:.2f} / {warm_jit:.2f} |"
                     f" {peers.ratio(first, peer_rate)} |")
    for warmup in args.server_warmup or [0, 5]:
        ratios = [first / warm for _, w, _, first, warm, _, _ in rows if w == warmup]
        lines.append(f"\n--warmup-seconds {warmup}: first / warm {statistics.median(ratios):.2f}"
                     f" (median of {len(ratios)} runs)")
    if peer_rate:
        lines.append(f"\nlamindb MappedCollection, one row at a time, shuffled, same files:"
                     f" {peer_rate:,.0f} rows/s")
    table = "\n".join(lines)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    bars = {}
    for run, warmup, _, first, warm, _, _ in rows:
        bars[f"run {run}, warmup {warmup} s: first epoch"] = first
        bars[f"run {run}, warmup {warmup} s: warm"] = warm
    bars["lamindb MappedCollection rows, shuffled"] = peer_rate
    peers.write_outputs(args.out, "first-epoch", title, table, bars, unit="rows/s")


if __name__ == "__main__":
    main()
