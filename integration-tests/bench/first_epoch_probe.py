#!/usr/bin/python3
"""Where a fresh server's first epoch spends what a warm one does not: a diagnostic beside
first_epoch_bench.py (no target, no table).

Starts one server with --data-root alone (as the bench does) and the JVM's class-load log and
-XX:+PrintCompilation, reads --epochs epochs of the bench's `paths` request (X + cell_type +
X_pca to numpy, lz4), and prints for each epoch: rows/s, GetFlightInfo and each endpoint's
DoGet (wall seconds and the server's CPU seconds), the server's CPU and the part of it its JIT
compiler threads used, the classes the JVM loaded and the methods it compiled meanwhile (by
tier; 4 is C2, 2 is C1 with a light profile, what HotSpot compiles while C2's queue is long);
for the first epoch, also which packages. The logging
slows the server a little; compare epochs of one run, not with the bench's figures.

    /usr/bin/python3 integration-tests/bench/first_epoch_probe.py [--warmup-seconds 5]
"""
import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_bench as tb  # noqa: E402  (re-runs itself in the bench venv)

import pyarrow.flight as fl  # noqa: E402

import synthetic  # noqa: E402
from first_epoch_bench import jit_cpu, server_cpu  # noqa: E402

COMPILED = re.compile(r"^\s*(\d+)\s+\d+\s+[%sbn! ]*\s([0-4])\s+(\S+)")
LOADED = re.compile(r"^\[(\d+\.\d+)s\] (\S+)")


def uptime(pid) -> float:
    """Seconds since the JVM started, on the clock of its logs (to 10 ms)."""
    start = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    return float(Path("/proc/uptime").read_text().split()[0]) - start / os.sysconf("SC_CLK_TCK")


def epoch(server, request) -> dict:
    pid = server.proc.pid
    with fl.connect(server.location) as client:
        u0, c0, j0, t0 = uptime(pid), server_cpu(server), jit_cpu(pid), time.perf_counter()
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)),
                                      tb.OPTIONS)
        phases = [("info", time.perf_counter() - t0, server_cpu(server) - c0)]
        rows = 0
        for i, ep in enumerate(info.endpoints):
            t, c = time.perf_counter(), server_cpu(server)
            rows += tb.drain(client, ep.ticket)[0]
            phases.append((f"endpoint {i}", time.perf_counter() - t, server_cpu(server) - c))
        return {"rows/s": rows / (time.perf_counter() - t0), "phases": phases,
                "cpu": server_cpu(server) - c0, "jit": jit_cpu(pid) - j0,
                "window": (u0, uptime(pid))}


def package(name: str) -> str:
    return ".".join(name.split("::")[0].split("$")[0].split(".")[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tb.add_collection_args(ap)
    ap.add_argument("--warmup-seconds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=12)
    args = ap.parse_args()
    paths = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05, ["csr"])["csr"]
    request = {"paths": [p.name for p in paths], "obs_keys": [tb.OBS_KEY],
               "obsm_keys": [tb.OBSM_KEY], "compression": "lz4"}
    classes = Path(tempfile.mkstemp(prefix="annflight-probe-classes-", suffix=".log")[1])
    server = tb.Server(args.jar, {}, "", [f"-Xlog:class+load:file={classes}:uptime",
                                          "-XX:+PrintCompilation"],
                       ["--data-root", str(args.dir), "--warmup-seconds",
                        str(args.warmup_seconds)])
    try:
        epochs = [epoch(server, request) for _ in range(args.epochs)]
    finally:
        server.stop()
    loaded = [(float(m.group(1)), m.group(2)) for m in map(LOADED.match, open(classes)) if m]
    compiled = [(int(m.group(1)) / 1000, int(m.group(2)), m.group(3))
                for line in open(server.log.name) if "made " not in line
                for m in [COMPILED.match(line)] if m]
    for n, e in enumerate(epochs):
        lo, hi = e["window"]
        inside = [c for c in compiled if lo <= c[0] <= hi]
        tiers = collections.Counter(t for _, t, _ in inside)
        print(f"epoch {n}: {e['rows/s']:,.0f} rows/s; "
              + ", ".join(f"{name} {wall:.3f} s (CPU {cpu:.2f} s)"
                          for name, wall, cpu in e["phases"])
              + f"; server CPU {e['cpu']:.2f} s, of which the JIT's compiler threads"
              f" {e['jit']:.2f} s"
              + f"; classes loaded {sum(lo <= t <= hi for t, _ in loaded)};"
              f" compiled {len(inside)} (tiers {dict(sorted(tiers.items()))})")
    lo, hi = epochs[0]["window"]
    print("first epoch, classes loaded by package:", collections.Counter(
        package(name) for t, name in loaded if lo <= t <= hi).most_common(12))
    print("first epoch, C2 compilations by package:", collections.Counter(
        package(name) for t, tier, name in compiled if lo <= t <= hi and tier == 4)
        .most_common(12))
    print(f"server log (with the compilations): {server.log.name}; class loads: {classes}")


if __name__ == "__main__":
    main()
