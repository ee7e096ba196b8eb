#!/usr/bin/python3
"""Soak: the server under minutes of mixed, hostile-ish traffic, its memory sampled.

Writes (once, under --dir, default /tmp/annflight-bench/soak) a 20,000-cell x 2,000-gene
collection with anndata in CSR and dense layouts (synthetic.py), starts the server jar
(--xmx, default 512m) and for --minutes (default 3) runs --threads client threads, each
repeating at random: read a whole endpoint, cancel a stream after its first batch, close the
connection mid-stream, read a ticket of 256 random rows; plain and lz4, both layouts. Every
--kill-every seconds a client process is started and killed with SIGKILL mid-stream.

Every 5 s it samples the server's anonymous memory (RssAnon: heap, direct buffers, stacks;
mapped store pages are page cache and not counted) and prints it; at the end it prints the
first and last minute's means, the growth per minute between them, the streams served, and the
server's own `server_status` once it has settled (Arrow memory held must be 0). Exit status 1
when memory is still held after the soak or the log reports a leak. The table and a plot of
the memory figures go to --out (soak.md and .png).

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/soak_bench.py --minutes 3
"""
import argparse
import json
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput_bench import OPTIONS, REPO, Server  # noqa: E402  (re-runs in the bench venv)

import numpy as np  # noqa: E402
import pyarrow.flight as fl  # noqa: E402

import peers  # noqa: E402
import synthetic  # noqa: E402

KILLED_CLIENT = r"""
import sys, pyarrow.flight as fl
for chunk in fl.connect(sys.argv[1]).do_get(fl.Ticket(sys.argv[2].encode())):
    pass
"""


def anon_bytes(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"RssAnon:\s+(\d+) kB", text).group(1)) * 1024


def status(location: str) -> dict:
    with fl.connect(location) as c:
        return json.loads(next(c.do_action(fl.Action("server_status", b"{}"))).body.to_pybytes())


def endpoints(location: str, name: str, codec: str) -> list:
    req = {"collection": name, "compression": codec}
    with fl.connect(location) as c:
        info = c.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)), OPTIONS)
    return [ep.ticket for ep in info.endpoints]


def client_loop(location, names, n_obs, stop_at, counts, lock, seed):
    rng = random.Random(seed)
    tickets = {(n, c): endpoints(location, n, c) for n in names for c in ("none", "lz4")}
    while time.monotonic() < stop_at:
        name, codec = rng.choice(names), rng.choice(["none", "lz4"])
        kind = rng.choice(["whole", "cancel", "close", "shuffled"])
        with fl.connect(location) as c:
            if kind == "shuffled":
                idx = sorted(rng.sample(range(n_obs), 256))
                t = fl.Ticket(json.dumps({"request": {"collection": name, "compression": codec},
                                          "indices": idx}).encode())
                rows = c.do_get(t, OPTIONS).read_all().num_rows
            else:
                reader = c.do_get(rng.choice(tickets[(name, codec)]), OPTIONS)
                if kind == "whole":
                    rows = reader.read_all().num_rows
                else:
                    rows = reader.read_chunk().data.num_rows
                    if kind == "cancel":
                        reader.cancel()
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
            counts["rows"] = counts.get("rows", 0) + rows


def killer_loop(location, name, stop_at, every, counts, lock):
    rng = random.Random(3)
    while time.monotonic() < stop_at:
        ticket = endpoints(location, name, "lz4")[0].ticket.decode()
        child = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, location, ticket])
        time.sleep(rng.uniform(0.4, 1.2))
        child.kill()
        child.wait(30)
        with lock:
            counts["killed"] = counts.get("killed", 0) + 1
        time.sleep(max(0.0, every - 1.2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench/soak"))
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--cells", type=int, default=20_000)
    ap.add_argument("--genes", type=int, default=2_000)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--kill-every", type=float, default=5.0)
    ap.add_argument("--xmx", default="512m")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()

    paths = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05)
    server = Server(args.jar, paths, args.xmx, [])
    names = list(paths)
    stop_at = time.monotonic() + args.minutes * 60
    counts, lock = {}, threading.Lock()
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(server.location, names, args.cells, stop_at, counts,
                                      lock, k)) for k in range(args.threads)]
    threads.append(threading.Thread(target=killer_loop, daemon=True, args=(
        server.location, names[0], stop_at, args.kill_every, counts, lock)))
    samples = []
    t0 = time.monotonic()
    try:
        for t in threads:
            t.start()
        while time.monotonic() < stop_at:
            time.sleep(5)
            samples.append((time.monotonic() - t0, anon_bytes(server.proc.pid)))
            print(f"  {samples[-1][0]:6.0f} s  RssAnon {samples[-1][1] / 2**20:7.1f} MiB  "
                  f"{dict(counts)}", flush=True)
        for t in threads:
            t.join(120)
        deadline = time.monotonic() + 30
        while True:
            s = status(server.location)
            if s["allocated_bytes"] == 0 and s["streams_draining"] == 0 \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        settled_anon = anon_bytes(server.proc.pid)
    finally:
        server.stop()
    log = Path(server.log.name).read_text()
    leaks = [l for l in log.splitlines() if re.search(r"leak|still allocated", l, re.I)]
    first = np.mean([b for t, b in samples if t <= 60]) / 2**20
    last = np.mean([b for t, b in samples if t >= samples[-1][0] - 60]) / 2**20
    span = max(1.0, (samples[-1][0] - 30) / 60 - 0.5)
    top = max(b for _, b in samples) / 2**20
    title = (f"soak {args.minutes:g} min, {args.threads} client threads + a killed client every"
             f" {args.kill_every:g} s, server -Xmx{args.xmx}, {args.cells:,} cells x"
             f" {args.genes:,} genes")
    table = "\n".join([
        "| figure | value |", "|---|--:|",
        *(f"| streams: {k} | {v:,} |" for k, v in sorted(counts.items())),
        f"| RssAnon, first minute's mean | {first:.1f} MiB |",
        f"| RssAnon, last minute's mean | {last:.1f} MiB |",
        f"| RssAnon growth between them | {(last - first) / span:+.1f} MiB/min |",
        f"| RssAnon, max | {top:.1f} MiB |",
        f"| RssAnon after settling | {settled_anon / 2**20:.1f} MiB |",
        f"| Arrow bytes held after settling (server_status) | {s['allocated_bytes']:,} |",
        f"| streams draining after settling | {s['streams_draining']} |",
        f"| leak lines in the server log | {len(leaks)} |"])
    print(f"\n{title}\n{table}\nserver_status after settling: {s}")
    peers.write_outputs(args.out, "soak", title, table, {
        "RssAnon, first minute's mean": first, "RssAnon, last minute's mean": last,
        "RssAnon, max": top, "RssAnon after settling": settled_anon / 2**20},
        unit="server anonymous memory, MiB", log=False)
    sys.exit(0 if s["allocated_bytes"] == 0 and not leaks else 1)


if __name__ == "__main__":
    main()
