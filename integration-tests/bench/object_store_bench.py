#!/usr/bin/python3
"""Reading the benchmark collection from a bucket beside reading it from local disk, in one run.

The throughput benchmark's collection (50,000 cells x 2,000 genes, two stores per layout,
CSR float32 at 5 % and the same values dense; .h5ad, and with --formats h5ad,zarr also .zarr)
is uploaded to a bucket of an S3Proxy the script starts (127.0.0.1, made-up credentials), and
served by the jar from local disk and from the bucket through a relay that delays each request
by 0 and by --latency-ms. For each: the first epoch (every endpoint in order, X + cell_type +
X_pca, lz4), warm epochs (caches warm; the fastest of three), a block-shuffled epoch, and for
the bucket the first epoch after a restart with the disk cache (--cache-dir) kept, and a
block-shuffled epoch on a server just started without a disk cache (cold). Prints rows/s
and the ratio to local disk measured in the same run (local is measured before and after the
bucket, the faster kept), the requests each epoch sent to the bucket and the CPU seconds per
million rows of the server and of the client (which the machine's load moves far less than
rates), and writes the tables and a plot of the ratios as <out>/object-storage.md and .png
(--out, default bench-out/).

    mvn -B -q install -DskipTests -DskipPythonTests   # the jar and test-s3proxy/target/lib
    ANNFLIGHT_BENCH_VENV=/tmp/venv-with-boto3 /usr/bin/python3 \\
        integration-tests/bench/object_store_bench.py [--layouts csr,dense] \\
        [--formats h5ad,zarr] [--latency-ms 0 --latency-ms 20]

Needs boto3 beside pyarrow in the bench venv (pip install boto3 from the wheelhouse).
"""
import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_bench as tb  # noqa: E402  (re-runs itself in the bench venv)

import peers  # noqa: E402
import synthetic  # noqa: E402

sys.path.insert(0, str(tb.REPO / "tools/compat"))
import s3proxy_runner  # noqa: E402

import pyarrow.flight as fl  # noqa: E402


class LatencyRelay:
    """A TCP relay to S3Proxy that holds every chunk the server sends (a request) for
    `delay` seconds before passing it on: about one round trip of added latency per request."""

    def __init__(self, upstream_port: int, delay: float):
        self.upstream_port, self.delay = upstream_port, delay
        self.port = s3proxy_runner.free_port()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait(10)

    def _run(self, started):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port))
        started.set()
        try:
            self.loop.run_until_complete(server.serve_forever())
        except RuntimeError:  # stop() ends the loop under serve_forever: the relay is done
            pass

    async def _client(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return

        async def pipe(src, dst, delay):
            try:
                while True:
                    data = await src.read(1 << 16)
                    if not data:
                        break
                    if delay:
                        await asyncio.sleep(delay)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, self.delay), pipe(up_reader, writer, 0))

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


def request(name: str, sampler=None) -> dict:
    r = tb.request(name)
    if sampler:
        r["sampler"] = sampler
    return r


def cpu_seconds(pid) -> float:
    """User + system CPU seconds of process `pid` so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def object_requests(metrics_port, name="annflight_object_store_requests_total") -> int:
    """Requests the server sent to object stores so far (HEAD, LIST, GET), from /metrics (or
    another counter of it)."""
    if metrics_port is None:
        return 0
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return 0


def opening_note(source, metrics_port) -> str:
    """What the server fetched before its first epoch (opening the collection's stores)."""
    mib = object_requests(metrics_port, "annflight_object_store_bytes_fetched_total") / 2**20
    return (f"{source}: opening the stores sent {object_requests(metrics_port)} requests and"
            f" fetched {mib:.1f} MiB before the first epoch")


def epoch(server, name, sampler=None, metrics_port=None) -> dict:
    """One epoch, every endpoint in order: rows/s, requests sent to the bucket, and CPU seconds
    per million rows of the server JVM and of this (client) process."""
    with fl.connect(server.location) as client:
        d = fl.FlightDescriptor.for_command(json.dumps(request(name, sampler)))
        req0, srv0, cli0 = object_requests(metrics_port), cpu_seconds(server.proc.pid), \
            sum(os.times()[:2])
        info = client.get_flight_info(d, tb.OPTIONS)
        t0 = time.perf_counter()  # as before: the epoch's streams, not the plan
        rows = 0
        for ep in info.endpoints:
            rows += tb.drain(client, ep.ticket)[0]
        secs = time.perf_counter() - t0
        return {"rate": rows / secs, "rows": rows,
                "requests": object_requests(metrics_port) - req0,
                "server cpu": (cpu_seconds(server.proc.pid) - srv0) / rows * 1e6,
                "client cpu": (sum(os.times()[:2]) - cli0) / rows * 1e6}


SHUFFLE = {"kind": "block_shuffle", "seed": 0, "epoch": 1}


def measure(server, name, n_obs, metrics_port=None):
    shuffle = SHUFFLE
    out = {}
    out["first epoch"] = epoch(server, name, metrics_port=metrics_port)
    # Warm epochs, the fastest of three, for local disk as for the bucket: one epoch's rate
    # moves 2x with the load others put on the machine.
    out["warm epoch"] = max((epoch(server, name, metrics_port=metrics_port) for _ in range(3)),
                            key=lambda e: e["rate"])
    out["block-shuffled epoch"] = epoch(server, name, shuffle, metrics_port)
    assert out["block-shuffled epoch"]["rows"] == n_obs, \
        f"{out['block-shuffled epoch']['rows']} rows in a block-shuffled epoch, expected {n_obs}"
    return out


def to_local(results, source, lay, phase) -> float:
    """`source`'s rows/s in `phase` over local disk's; after a restart, over local disk's first
    epoch (both start with the server's caches empty)."""
    local = results[("local", lay)]
    base = local["first epoch"] if phase == "after restart (disk cache)" else \
        local["block-shuffled epoch"] if phase == "block-shuffled, cold" else local[phase]
    return results[(source, lay)][phase]["rate"] / base["rate"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tb.add_collection_args(ap)
    ap.add_argument("--layouts", default="csr,dense")
    ap.add_argument("--formats", default="h5ad",
                    help="h5ad, zarr or both (h5ad,zarr): the stores' format; a Zarr layout is"
                         " named like csr-zarr in the table")
    ap.add_argument("--latency-ms", type=float, action="append", default=None,
                    help="added per request (repeatable; default: 0 and 20)")
    ap.add_argument("--xmx", default="2g")
    ap.add_argument("--out", type=Path, default=Path("bench-out"),
                    help="where object-storage.md and .png are written")
    args = ap.parse_args()
    latencies = args.latency_ms if args.latency_ms is not None else [0.0, 20.0]
    colls = {}
    for fmt in args.formats.split(","):
        written = synthetic.write_collection(args.dir, args.cells, args.genes, 2, 0.05,
                                             args.layouts.split(","), fmt=fmt)
        colls.update({lay if fmt == "h5ad" else f"{lay}-{fmt}": paths
                      for lay, paths in written.items()})
    layouts = list(colls)
    tb.COMPRESSION = "lz4"
    work = Path(tempfile.mkdtemp(prefix="annflight-object-bench-"))
    s3proc, endpoint, keys = s3proxy_runner.start(work / "s3proxy")
    relays = []
    try:
        staging = work / "upload"
        staging.mkdir()
        for paths in colls.values():
            for p in paths:
                os.link(p, staging / p.name) if p.is_file() else shutil.copytree(p, staging / p.name)
        s3proxy_runner.upload(staging, endpoint, keys, "bench")
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = keys
        s3_colls = {lay: [f"s3://bench/{p.name}" for p in paths] for lay, paths in colls.items()}
        serve = ["--warmup-seconds", "0"]
        results = {}
        notes = []

        def measure_local():
            # Before and after the bucket's runs, the faster kept: a conservative baseline on
            # a machine others load too.
            server = tb.Server(args.jar, colls, args.xmx, [], serve)
            try:
                for lay in layouts:
                    r = measure(server, lay, args.cells)
                    old = results.get(("local", lay), {})
                    results[("local", lay)] = {
                        k: max(v, old.get(k, v), key=lambda e: e["rate"]) for k, v in r.items()}
            finally:
                server.stop()

        measure_local()
        s3_port = int(endpoint.rsplit(":", 1)[1])
        for ms in latencies:
            relay = LatencyRelay(s3_port, ms / 1000)
            relays.append(relay)
            cache = work / f"cache-{ms:g}"
            metrics_port = tb.free_port()
            # The collections' s3:// stores lie under the data root (as every s3:// store must
            # lie under an s3:// root).
            s3_args = serve + ["--data-root", "s3://bench",
                               "--metrics-port", str(metrics_port), "--s3-endpoint", f"http://127.0.0.1:{relay.port}",
                               "--s3-path-style", "--cache-dir", str(cache),
                               "--cache-size", "8g", "--s3-memory-cache", "1g"]
            server = tb.Server(args.jar, s3_colls, args.xmx, [], s3_args)
            try:
                notes.append(opening_note(f"s3 {ms:g} ms", metrics_port))
                for lay in layouts:
                    results[(f"s3 {ms:g} ms", lay)] = measure(server, lay, args.cells,
                                                              metrics_port)
            finally:
                server.stop()
            server = tb.Server(args.jar, s3_colls, args.xmx, [], s3_args)
            try:
                for lay in layouts:
                    results[(f"s3 {ms:g} ms", lay)]["after restart (disk cache)"] = epoch(
                        server, lay, metrics_port=metrics_port)
            finally:
                server.stop()
            # A block-shuffled epoch on a server just started without a disk cache: every
            # batch's rows fetched from the bucket, ahead of the stream or as it asks.
            cold_args = [a for a in s3_args if a not in ("--cache-dir", str(cache))]
            server = tb.Server(args.jar, s3_colls, args.xmx, [], cold_args)
            try:
                for lay in layouts:
                    results[(f"s3 {ms:g} ms", lay)]["block-shuffled, cold"] = epoch(
                        server, lay, SHUFFLE, metrics_port)
            finally:
                server.stop()
        measure_local()
    finally:
        for r in relays:
            r.stop()
        s3proc.terminate()
        s3proc.wait(20)
        shutil.rmtree(work, ignore_errors=True)

    phases = ["first epoch", "warm epoch", "block-shuffled epoch",
              "after restart (disk cache)", "block-shuffled, cold"]
    rule = "|---|---|" + "---|" * len(phases)
    lines = ["| source | layout | " + " | ".join(phases) + " |", rule]
    bars = {}  # rows/s grouped by phase, local disk first; the label carries the ratio
    for k in phases:
        for (source, lay), r in results.items():
            if k not in r:
                continue
            if source == "local":
                bars[f"{k}: local disk, {lay}"] = r[k]["rate"]
                continue
            bars[f"{k}: {source}, {lay} ({to_local(results, source, lay, k):.2f}x local)"] = \
                r[k]["rate"]
    for (source, lay), r in results.items():
        cells = []
        for k in phases:
            if k not in r:
                cells.append("")
            elif source == "local":
                cells.append(f"{r[k]['rate']:,.0f}")
            else:
                cells.append(f"{r[k]['rate']:,.0f} ({to_local(results, source, lay, k):.2f}x)")
        lines.append(f"| {source} | {lay} | " + " | ".join(cells) + " |")
    # Load moves rates 2x; CPU per row and requests sent move far less.
    lines += ["", "Requests sent to the bucket per epoch; CPU seconds per million rows of the"
              " server JVM and of the client (server / client):", "",
              "| source | layout | " + " | ".join(phases) + " |", rule]
    for (source, lay), r in results.items():
        cells = []
        for k in phases:
            if k not in r:
                cells.append("")
                continue
            e = r[k]
            reqs = "" if source == "local" else f"{e['requests']:,} req, "
            cells.append(f"{reqs}{e['server cpu']:.1f} / {e['client cpu']:.1f} s")
        lines.append(f"| {source} | {lay} | " + " | ".join(cells) + " |")
    lines += [""] + notes
    table = "\n".join(lines)
    title = (f"Bucket (S3Proxy, {' / '.join(f'{ms:g}' for ms in latencies)} ms added per "
             f"request) beside local disk, same run: {args.cells:,} cells x {args.genes:,} "
             f"genes, whole epochs, rows/s (ratio to local disk)")
    print(f"\n{title}\n{table}")
    peers.write_outputs(args.out, "object-storage", title, table, bars, unit="rows/s",
                        log=False)


if __name__ == "__main__":
    main()
