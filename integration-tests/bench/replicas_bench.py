#!/usr/bin/env python3
"""Scaling out on loopback: aggregate rows/s for 1, 2 and 3 replicas of the server jar
(--locations) read by 1, 2 and 4 consumer processes, and the figures the README's deployment
model uses, all from the same run:

  server CPU seconds per million rows served (user + system of every replica, /proc)
  bytes per row on the wire (the loopback interface's byte counter, /proc/net/dev)
  Arrow memory per running stream (the server_status action's peak over the streams)

Each consumer reads one equal part of the epoch (equal_parts = consumers) from the replica
the FlightInfo assigns it. On a 2-core machine the replicas and consumers share the same two
cores, so the rates do not scale here: the point is the model's shape (see the README).
The table and a plot of its rows/s go to --out (replicas.md and .png).

Run with the test venv's python after `mvn -B -q package -DskipTests`:
    integration-tests/target/venv/bin/python integration-tests/bench/replicas_bench.py
"""
import argparse
import json
import multiprocessing as mp
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.flight as fl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
import synthetic  # noqa: E402
from throughput_bench import OBS_KEY, add_collection_args  # noqa: E402

CLK_TCK = 100


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_replicas(jar, paths, n):
    ports = free_ports(n)
    uris = [f"grpc+tcp://127.0.0.1:{p}" for p in ports]
    config = Path(tempfile.mkstemp(prefix="annflight-replicas-", suffix=".json")[1])
    config.write_text(json.dumps({"collections": {"bench": {
        "paths": [str(p) for p in paths], "obs_keys": [OBS_KEY]}}, "locations": uris}))
    procs = [subprocess.Popen(["java", "-jar", str(jar), "serve", "--port", str(p),
                               "--config", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for p in ports]
    deadline = time.time() + 120
    for uri in uris:
        while True:
            try:
                with fl.connect(uri) as c:
                    list(c.list_flights())
                break
            except fl.FlightError:
                if time.time() > deadline:
                    sys.exit(f"replica {uri} did not start")
                time.sleep(0.3)
    return uris, procs


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def loopback_bytes():
    for line in Path("/proc/net/dev").read_text().splitlines():
        if line.strip().startswith("lo:"):
            return int(line.split(":", 1)[1].split()[0])  # received (= sent on lo)
    return 0


def consume(location, ticket, ready, go, out):
    """Connects, waits for the common start, reads its part; reports rows and its times."""
    with fl.connect(location) as c:
        c.list_actions()  # the connection is up before the clock starts
        ready.put(True)
        go.wait()
        t0 = time.time()
        rows = 0
        for chunk in c.do_get(fl.Ticket(ticket)):
            rows += chunk.data.num_rows
    out.put((rows, t0, time.time()))


def run(uris, procs, consumers, request):
    with fl.connect(uris[0]) as c:
        info = c.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(
            {**request, "equal_parts": {"count": consumers, "remainder": "drop"}})))
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=consume, args=(e.locations[0].uri.decode(),
                                                 e.ticket.ticket, ready, go, out))
               for e in info.endpoints]
    for w in workers:
        w.start()
    for _ in workers:  # every consumer started and connected: the clock starts now
        ready.get(timeout=120)
    cpu0 = [cpu_seconds(p.pid) for p in procs]
    net0 = loopback_bytes()
    go.set()
    results = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    rows = sum(r for r, _, _ in results)
    dt = max(t1 for _, _, t1 in results) - min(t0 for _, t0, _ in results)
    cpu = sum(cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0))
    wire = loopback_bytes() - net0
    peak = 0
    for uri in uris:
        with fl.connect(uri) as c:
            status = json.loads(next(iter(c.do_action(fl.Action("server_status", b"")))).body
                                .to_pybytes())
            peak = max(peak, status["peak_allocated_bytes"])
    return rows / dt, cpu / (rows / 1e6), wire / rows, peak


def heap_used_after_gc(pid) -> int:
    """The server JVM's live heap in bytes after a full GC (jcmd)."""
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, check=True, timeout=60)
    info = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    for line in info.splitlines():
        if "used" in line and "total" in line:
            return int(line.split("used", 1)[1].split("K")[0].strip()) * 1024
    raise RuntimeError("no heap figure in jcmd GC.heap_info: " + info)


def memory_per_open_store(jar, directory, stores=16, cells=32_000, genes=2_000):
    """Live heap of a server holding 1 store against one holding `stores` open (the same
    cells split over more files), per extra store; stores open at startup."""
    used = {}
    for n in (1, stores):
        paths = synthetic.write_collection(directory / f"stores{n}", cells, genes, n, 0.05,
                                           layouts=("csr",))["csr"]
        uris, procs = start_replicas(jar, paths, 1)
        try:
            with fl.connect(uris[0]) as c:  # a plan, so every store's metadata is read
                c.get_flight_info(fl.FlightDescriptor.for_path("bench"))
            used[n] = heap_used_after_gc(procs[0].pid)
        finally:
            procs[0].terminate()
            procs[0].wait(timeout=30)
    return (used[stores] - used[1]) / (stores - 1), used[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_collection_args(ap)
    ap.add_argument("--layout", default="csr")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    paths = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05,
                                       layouts=(args.layout,))[args.layout]
    formats = {"dense lz4": {"compression": "lz4"},
               "csr lz4": {"compression": "lz4", "matrix_format": "csr"}}
    title = (f"{args.cells:,} cells x {args.genes:,} genes ({args.layout} stores), sequential,"
             " each consumer one equal part; startup and JIT warm-up untimed")
    lines = ["| replicas | consumers | output | rows/s | server CPU s per 1M rows |"
             " wire bytes/row | peak Arrow bytes per server |", "|--:|--:|---|--:|--:|--:|--:|"]
    print(title + "\n" + "\n".join(lines))
    bars = {}
    for n in (1, 2, 3):
        uris, procs = start_replicas(args.jar, paths, n)
        try:
            for name, extra in formats.items():
                request = {"collection": "bench", **extra}
                run(uris, procs, 2, request)  # warm-up: the replicas' JIT
                for consumers in (1, 2, 4):
                    rate, cpu, wire, peak = run(uris, procs, consumers, request)
                    lines.append(f"| {n} | {consumers} | {name} | {rate:,.0f} | {cpu:.2f} |"
                                 f" {wire:,.0f} | {peak / 2**20:.0f} MiB |")
                    print(lines[-1], flush=True)
                    bars[f"{name}, {n} replica{'s' * (n > 1)}, {consumers} consumer"
                         f"{'s' * (consumers > 1)}"] = rate
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
    per_store, base = memory_per_open_store(args.jar, args.dir)
    heap = (f"Live heap after a full GC: {base / 2**20:.1f} MiB with the 32,000 cells in one"
            f" open store; split over 16 stores, each further store adds"
            f" {per_store / 2**10:,.0f} KiB (its own var index of 2,000 genes and metadata).")
    print("\n" + heap)
    peers.write_outputs(args.out, "replicas", title, "\n".join(lines) + "\n\n" + heap, bars,
                        unit="aggregate rows/s")


if __name__ == "__main__":
    main()
