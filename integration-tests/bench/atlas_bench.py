#!/usr/bin/python3
"""An atlas of 100,000,000 cells served at -Xmx2g, beside lamindb's MappedCollection, in one run.

Writes (under --dir, removed afterwards unless --keep) 50 .h5ad stores of 2,000,000 rows each:
X CSR float32 over 32 genes, a categorical obs cell_type of 20 levels and a string obs index,
in anndata's encoding with h5py (integration-tests/python/atlas_data.py). One store is written
and the other 49 are hard links to it, so the collection takes the disk space of one store.
Then starts the server jar (--xmx, default 2g; the stores named by "paths" under --data-root,
so nothing is opened before the first request) and reports:

  first answer      time from the server listening to the answer of `shape` (opens the stores)
  label weights     get_label_weights(cell_type) over every row, streamed (time, rows)
  per sampler       sequential, shuffle, block_shuffle, weighted (label-balanced over cell_type,
                    with replacement): GetFlightInfo time, time to the first batch, rows/s over
                    the first --window rows (X + cell_type to numpy, lz4, one client thread),
                    the server's RSS and heap after it
  MappedCollection  the peer over the same 50 files: time to open, rows/s of its own
                    __getitem__ over --peer-seconds, in order and at random positions

A sampler the server refuses shows the server's message in the table. Numbers are noisy on a
shared machine: the ratio to the peer, measured in the same run, is what counts. The table and
a plot of rows/s per sampler and of the peer are written as <out>/atlas.md and .png (--out,
default bench-out/).

    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/atlas_bench.py [--stores 50] [--window 5000000]
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_bench as tb  # noqa: E402  (re-runs itself in the bench venv)

import peers  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.flight as fl  # noqa: E402

sys.path.insert(0, str(tb.REPO / "integration-tests" / "python"))
from atlas_data import OBS_KEY, Atlas  # noqa: E402

PEER = tb.REPO.parent / "shared" / "peers" / "lamindb"


class AtlasServer:
    """The jar over --data-root with metrics on, started and awaited ("listening on")."""

    def __init__(self, jar: Path, root: Path, xmx: str, java_opts):
        self.log_path = Path(tempfile.mkstemp(prefix="annflight-atlas-", suffix=".log")[1])
        cmd = ["java", f"-Xmx{xmx}", *java_opts, "--add-opens=java.base/java.nio=ALL-UNNAMED",
               "-jar", str(jar), "serve", "--host", "127.0.0.1", "--port", "0",
               "--data-root", str(root), "--metrics-port", "0", "--warmup-seconds", "0"]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while True:
            text = self.log_path.read_text()
            m = re.search(r"listening on (grpc\+tcp://\S+)", text)
            if m:
                self.location = m.group(1)
                self.metrics = "http://127.0.0.1:%s/metrics" % re.search(
                    r"metrics on http://\S+:(\d+)/metrics", text).group(1)
                self.listening = time.perf_counter()
                return
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                sys.exit(f"the server did not start; log: {self.log_path}")
            time.sleep(0.1)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def metric(self, pattern: str) -> float:
        text = urllib.request.urlopen(self.metrics, timeout=30).read().decode()
        return sum(float(m) for m in re.findall(rf"^{pattern} (\S+)$", text, re.M))

    def heap_mib(self) -> float:
        return self.metric(r'jvm_memory_used_bytes\{area="heap"\}') / 2 ** 20

    def memory(self) -> str:
        return f"RSS {self.rss_mib():,.0f} MiB, heap {self.heap_mib():,.0f} MiB"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def request(data: Atlas, sampler=None) -> dict:
    r = {"paths": list(data.names), "obs_keys": [OBS_KEY], "compression": "lz4"}
    if sampler is not None:
        r["sampler"] = sampler
    return r


def epoch_window(client, data: Atlas, sampler, window: int, seconds: float) -> dict:
    """GetFlightInfo time, time to the first batch and rows/s over the first `window` rows (or
    `seconds`) of one epoch, read to numpy in endpoint order."""
    t0 = time.perf_counter()
    try:
        info = client.get_flight_info(
            fl.FlightDescriptor.for_command(json.dumps(request(data, sampler))), tb.OPTIONS)
    except (fl.FlightError, pa.ArrowException) as e:  # a refusal is INVALID_ARGUMENT
        message = str(e).splitlines()[0].split("with message: ")[-1]
        return {"refused": message[:150]}
    planned = time.perf_counter() - t0
    rows, first = 0, None
    t1 = time.perf_counter()
    deadline = t1 + seconds
    for ep in info.endpoints:
        for chunk in client.do_get(ep.ticket, tb.OPTIONS):
            if first is None:
                first = time.perf_counter() - t1
            batch = chunk.data
            tb.matrix(batch.column("X"))
            batch.column(OBS_KEY).indices.to_numpy(zero_copy_only=False)
            rows += batch.num_rows
            if rows >= window or time.perf_counter() > deadline:
                break
        if rows >= window or time.perf_counter() > deadline:
            break
    return {"plan_s": planned, "first_batch_s": first, "rows": rows,
            "rows_per_s": rows / (time.perf_counter() - t1)}


def peer(data: Atlas, seconds: float) -> dict:
    """lamindb's MappedCollection over the same files: open time, rows/s of its __getitem__."""
    if not PEER.is_dir():
        return {"skipped": f"{PEER} is absent (../shared beside the repository)"}
    sys.path.insert(0, str(PEER))
    from lamindb_peer import MappedCollection
    t0 = time.perf_counter()
    mc = MappedCollection([str(p) for p in data.paths], obs_keys=[OBS_KEY], parallel=False)
    out = {"open_s": time.perf_counter() - t0}
    try:
        for name, positions in [("in order", np.arange(len(mc))),
                                ("random", np.random.default_rng(0).integers(0, len(mc),
                                                                            10_000_000))]:
            t1 = time.perf_counter()
            deadline = t1 + seconds
            n = 0
            for i in positions:
                mc[int(i)]
                n += 1
                if n % 256 == 0 and time.perf_counter() > deadline:
                    break
            out[name] = n / (time.perf_counter() - t1)
    finally:
        mc.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-atlas"))
    ap.add_argument("--stores", type=int, default=50)
    ap.add_argument("--rows-per-store", type=int, default=2_000_000)
    ap.add_argument("--genes", type=int, default=32)
    ap.add_argument("--xmx", default="2g")
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--jar", type=Path,
                    default=tb.REPO / "flight-server" / "target" / "annflight-server.jar")
    ap.add_argument("--window", type=int, default=5_000_000,
                    help="rows read of each epoch (default: %(default)s)")
    ap.add_argument("--seconds", type=float, default=120,
                    help="at most this long reading each epoch's window")
    ap.add_argument("--peer-seconds", type=float, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the written stores")
    ap.add_argument("--out", type=Path, default=Path("bench-out"),
                    help="where atlas.md and .png are written")
    args = ap.parse_args()

    data = Atlas(args.dir, args.stores, args.rows_per_store, args.genes, distinct=1)
    t0 = time.perf_counter()
    data.write()
    print(f"wrote {data.n_obs:,} rows in {args.stores} stores ({args.genes} genes, CSR) in "
          f"{time.perf_counter() - t0:.1f} s under {args.dir}", flush=True)
    server = AtlasServer(args.jar, args.dir, args.xmx, args.java_opt)
    results = []
    try:
        with fl.connect(server.location) as client:
            t0 = time.perf_counter()
            body = json.dumps({**request(data), "args": {}}).encode()
            shape = json.loads(list(client.do_action(fl.Action("shape", body)))[0].body
                               .to_pybytes())
            first = time.perf_counter() - t0
            print(f"first answer: shape {shape} in {first:.2f} s "
                  f"({time.perf_counter() - server.listening:.2f} s after listening); "
                  f"{server.memory()}", flush=True)
            results.append(("first answer (shape)", f"{first:.2f} s", server.memory()))

            t0 = time.perf_counter()
            body = json.dumps({**request(data), "args": {"obs_keys": [OBS_KEY]}}).encode()
            size = pieces = 0
            for r in client.do_action(fl.Action("get_label_weights", body)):
                size += r.body.size
                pieces += 1
            secs = time.perf_counter() - t0
            results.append(("get_label_weights (streamed)", f"{secs:.1f} s, {size / 2**20:,.0f}"
                            f" MiB in {pieces} results", server.memory()))
            print(f"label weights: {secs:.1f} s, {size / 2**20:,.0f} MiB; {server.memory()}",
                  flush=True)

            for name, sampler in [("sequential", None),
                                  ("shuffle", {"kind": "shuffle", "seed": 1}),
                                  ("block_shuffle", {"kind": "block_shuffle", "seed": 1}),
                                  ("weighted", {"kind": "weighted", "seed": 1,
                                                "weights": {"obs_keys": [OBS_KEY]}})]:
                r = epoch_window(client, data, sampler, args.window, args.seconds)
                mem = server.memory()
                if "refused" in r:
                    line = f"refused: {r['refused']}"
                else:
                    line = (f"GetFlightInfo {r['plan_s']:.2f} s, first batch "
                            f"{r['first_batch_s']:.2f} s, {r['rows_per_s']:,.0f} rows/s over "
                            f"{r['rows']:,} rows")
                results.append((name, line, mem))
                print(f"{name}: {line}; {mem}", flush=True)
        seq = next((r for r in results if r[0] == "sequential"), None)
        p = peer(data, args.peer_seconds)
        if "skipped" in p:
            results.append(("MappedCollection", "skipped: " + p["skipped"], ""))
        else:
            results.append(("MappedCollection", f"open {p['open_s']:.1f} s, in order "
                            f"{p['in order']:,.0f} rows/s, random {p['random']:,.0f} rows/s", ""))
        print(f"MappedCollection: {results[-1][1]}", flush=True)
    finally:
        server.stop()
        if not args.keep:
            data.remove()

    title = (f"Atlas of {data.n_obs:,} rows ({args.stores} stores, {args.genes} genes, CSR), "
             f"server at -Xmx{args.xmx}, one pyarrow client thread; lamindb's MappedCollection "
             f"(peer) over the same files, same run: rows/s")
    table = "\n".join(["| what | figure | server memory after |", "|---|---|---|"]
                      + [f"| {what} | {figure} | {mem} |" for what, figure, mem in results])
    rates = {what: float(re.search(r"([\d,]+) rows/s", figure).group(1).replace(",", ""))
             for what, figure, _ in results if "rows/s over" in figure}
    ratios = []
    if "sequential" in rates:
        ratios.append("rows/s relative to sequential: " + ", ".join(
            f"{what} {rate / rates['sequential']:.2f}x" for what, rate in rates.items()
            if what != "sequential"))
    if seq is not None and "skipped" not in p and "rows/s" in seq[1]:
        rate = rates["sequential"]
        ratios.append(f"sequential / MappedCollection in order: {rate / p['in order']:,.0f}x; "
                      f"/ random: {rate / p['random']:,.0f}x")
    table = "\n\n".join([table] + ratios)
    print(f"\n{title}\n{table}")
    bars = {f"annflight {what} (first {args.window:,} rows)": rate
            for what, rate in rates.items()}
    if "skipped" not in p:
        bars["MappedCollection (lamindb peer), in order"] = p["in order"]
        bars["MappedCollection (lamindb peer), random positions"] = p["random"]
    peers.write_outputs(args.out, "atlas", title, table, bars, unit="rows/s")


if __name__ == "__main__":
    main()
