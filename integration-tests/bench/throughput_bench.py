#!/usr/bin/python3
"""Throughput of annflight beside its peers, in one run on the same files.

Writes (once, under --dir, default /tmp/annflight-bench/throughput; never in the repository) a
synthetic collection with anndata: 50,000 cells x 2,000 genes in 2 .h5ad files, X as CSR
float32 at 5 % density and the same collection dense, obs `cell_type` (30 skewed levels), obsm
`X_pca` (50 float32 columns). Then starts the server jar and, as a pyarrow.flight client,
measures the rows and bytes delivered as numpy arrays (X 2-D float32, cell_type codes, X_pca
2-D):

  annflight numpy_batches  the package's Client.numpy_batches (what the README recommends):
                         X sent as CSR rows when the stores are sparse and scattered into
                         dense numpy on arrival, dense rows with lz4 otherwise; the client's
                         default of 4 endpoints fetched ahead
  annflight sequential   every endpoint, one after another
  annflight parallel     all endpoints at once (one client thread each)
  annflight shuffled     tickets of 256 random indices (one client thread; and 4 threads)

the last three each with plain batches, with the request's "compression": "lz4"
(--compression), and with X sent as CSR rows ("matrix_format": "csr", uncompressed) scattered
into dense numpy on arrival (annflight.arrow.batch_arrays; --no-csr-wire leaves it out),
after --warmup seconds of untimed traffic per layout (a long-running server is JIT-compiled;
a cold one is up to 2x slower for its first tens of seconds). The sequential and numpy_batches
passes also print the server's and this client's CPU time per row, which a loaded machine
disturbs far less than the rates,

and the peers on the same files:

  h5py blocks            4,096-row blocks into dense float32 (a reading-speed reference)
  lamindb MappedCollection  lamindb's own class (../shared/peers/lamindb; skipped with a
                         message when absent), one row at a time, in order and shuffled
  anndata backed         read_h5ad(backed="r"), one row at a time

Prints one table with the ratios to the peers and the server's peak memory (VmHWM), and writes
<out>/throughput.md and .png.

Needs pyarrow: the script re-runs itself in /tmp/annflight-bench-venv (Debian's python3 with
system site packages plus pyarrow), creating that venv when it is missing. Build the jar first:
    mvn -B -q package -DskipTests
    /usr/bin/python3 integration-tests/bench/throughput_bench.py
    /usr/bin/python3 integration-tests/bench/throughput_bench.py --cells 1000000 --xmx 512m \\
        --layouts csr --only annflight
"""
import argparse
import concurrent.futures as cf
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("ANNFLIGHT_BENCH_VENV", "/tmp/annflight-bench-venv"))
PYPI = os.environ.get("ANNFLIGHT_BENCH_INDEX", "file:///opt/pypi/simple")


def ensure_pyarrow(script: str):
    """Re-executes `script` in a venv that has pyarrow and grpcio (health checks) beside the
    system's anndata; a venv made by an older version of this script gets what it lacks."""
    try:
        import grpc  # noqa: F401
        import pyarrow.flight  # noqa: F401
        return
    except ImportError:
        pass
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        sys.exit("pyarrow or grpcio is missing from " + str(VENV))
    if not py.exists():
        print(f"creating {VENV} (system site packages + pyarrow, grpcio)", file=sys.stderr)
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(VENV)],
                       check=True)
    if subprocess.run([str(py), "-c", "import grpc, pyarrow.flight"],
                      capture_output=True).returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--index-url", PYPI, "pyarrow",
                        "grpcio"], check=True)
    os.execv(str(py), [str(py), script] + sys.argv[1:])


ensure_pyarrow(sys.argv[0])  # the running script: this one, or one that imports it

import resource  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.flight as fl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(REPO / "python" / "src"))  # this checkout's package, not an installed one
import annflight  # noqa: E402
from annflight.arrow import DenseRing, batch_arrays  # noqa: E402
import peers  # noqa: E402
import synthetic  # noqa: E402

OBS_KEY, OBSM_KEY = "cell_type", "X_pca"


# ---------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The annflight jar serving one collection per layout, as configured collections."""

    def __init__(self, jar: Path, collections: dict, xmx: str, java_opts, serve_args=()):
        self.port = free_port()
        self.config = Path(tempfile.mkstemp(prefix="annflight-bench-", suffix=".json")[1])
        self.config.write_text(json.dumps({"collections": {
            name: {"paths": [str(p) for p in paths], "obs_keys": [OBS_KEY],
                   "obsm_keys": [OBSM_KEY]}
            for name, paths in collections.items()}}))
        # No collections: the server is configured by serve_args alone (--data-root).
        config = ["--config", str(self.config)] if collections else []
        cmd = ["java"] + ([f"-Xmx{xmx}"] if xmx else []) + list(java_opts) + [
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "-jar", str(jar), "serve",
            "--port", str(self.port)] + config + list(serve_args)
        self.log = open(tempfile.mkstemp(prefix="annflight-bench-server-", suffix=".log")[1], "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.location = f"grpc+tcp://127.0.0.1:{self.port}"
        self._anon_peak = 0
        threading.Thread(target=self._sample, daemon=True).start()
        deadline = time.time() + 120
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; log: {self.log.name}")
            try:
                with fl.connect(self.location) as c:
                    list(c.list_flights())
                break
            except fl.FlightError:
                if time.time() > deadline:
                    self.stop()
                    sys.exit(f"server did not start; log: {self.log.name}")
                time.sleep(0.3)
        try:
            self._await_serving(deadline)
        except BaseException:
            self.stop()  # a failed wait leaves no server behind
            raise

    def _await_serving(self, deadline):
        """Health SERVING: the collections are open (and the server warm, with
        --warmup-seconds). Polled through grpcio, a bounded wait."""
        import grpc
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
            while check(b"", timeout=30) != b"\x08\x01":  # status: SERVING
                if time.time() > deadline:
                    self.stop()
                    sys.exit(f"server never said SERVING; log: {self.log.name}")
                time.sleep(0.2)

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def peak_rss(self) -> int:
        """Peak resident memory since reset_peak (VmHWM; includes mapped file pages)."""
        return self._status("VmHWM")

    def peak_anon(self) -> int:
        """Peak anonymous memory (heap, direct buffers, stacks) sampled since reset_peak."""
        return self._anon_peak

    def reset_peak(self):
        """Starts a new peak window (Linux: writing 5 to clear_refs resets VmHWM)."""
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        except OSError:
            pass
        self._anon_peak = self._status("RssAnon")

    def _sample(self):
        # Mapped store files count in RSS but are page cache; RssAnon is what the server owns.
        while self.proc.poll() is None:
            try:
                self._anon_peak = max(self._anon_peak, self._status("RssAnon"))
            except OSError:
                return
            time.sleep(0.02)

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system, all threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.config.unlink(missing_ok=True)


# ---------------------------------------------------------------- annflight client

OPTIONS = fl.FlightCallOptions(read_options=pa.ipc.IpcReadOptions(
    ensure_alignment=pa.ipc.Alignment.DataTypeSpecific))


def matrix(col) -> np.ndarray:
    """A FixedSizeList column as a 2-D numpy array, zero-copy from the flattened child."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)


# The memory CSR rows are scattered into, shared by the client threads and kept across passes
# (fresh memory per pass would add its page faults to every figure).
_RING = DenseRing(max_slots=6)


def batch_to_numpy(batch: pa.RecordBatch):
    """What a training loop takes from a batch: X, cell_type codes, X_pca as numpy (X dense
    2-D either way: a CSR column is scattered into dense rows, as numpy_batches does)."""
    if pa.types.is_fixed_size_list(batch.schema.field("X").type):
        x = matrix(batch.column("X"))
        codes = batch.column(OBS_KEY).indices.to_numpy(zero_copy_only=False)
        pca = matrix(batch.column("obsm_" + OBSM_KEY))
        return x, codes, pca
    arrays = batch_arrays(batch, _RING)
    return arrays["X"], arrays[OBS_KEY], arrays["obsm_" + OBSM_KEY]


def drain(client, ticket) -> tuple:
    rows = nbytes = 0
    reader = client.do_get(ticket, OPTIONS)
    for chunk in reader:
        x, codes, pca = batch_to_numpy(chunk.data)
        rows += x.shape[0]
        nbytes += x.nbytes + codes.nbytes + pca.nbytes
    return rows, nbytes


COMPRESSION = "none"  # set per measurement by main(): the request's "compression"
MATRIX_FORMAT = "dense"  # and its "matrix_format" ("csr": X scattered into dense on arrival)


def request(name: str) -> dict:
    r = {"collection": name, "obs_keys": [OBS_KEY], "obsm_keys": [OBSM_KEY],
         "compression": COMPRESSION}
    if MATRIX_FORMAT != "dense":
        r["matrix_format"] = MATRIX_FORMAT
    return r


def client_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def package_numpy(af, name):
    """The package's way (README): Client.numpy_batches with its defaults, on a client kept
    across epochs as a training run keeps it (its memory for scattered rows is reused)."""
    rows = nbytes = 0
    req = {"collection": name, "obs_keys": [OBS_KEY], "obsm_keys": [OBSM_KEY]}
    t0 = time.perf_counter()
    for arrays in af.numpy_batches(req):
        x, codes, pca = arrays["X"], arrays[OBS_KEY], arrays["obsm_" + OBSM_KEY]
        rows += x.shape[0]
        nbytes += x.nbytes + codes.nbytes + pca.nbytes
    return rows, nbytes, time.perf_counter() - t0


def flight_info(client, name):
    d = fl.FlightDescriptor.for_command(json.dumps(request(name)))
    return client.get_flight_info(d, OPTIONS)


def annflight_sequential(location, name):
    with fl.connect(location) as client:
        info = flight_info(client, name)
        t0 = time.perf_counter()
        rows = nbytes = 0
        for ep in info.endpoints:
            r, b = drain(client, ep.ticket)
            rows += r
            nbytes += b
        return rows, nbytes, time.perf_counter() - t0


def annflight_parallel(location, name):
    with fl.connect(location) as c:
        endpoints = flight_info(c, name).endpoints

    def one(ep):
        with fl.connect(location) as client:
            return drain(client, ep.ticket)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(len(endpoints)) as pool:
        parts = list(pool.map(one, endpoints))
    dt = time.perf_counter() - t0
    return sum(p[0] for p in parts), sum(p[1] for p in parts), dt


def annflight_shuffled(location, name, n_obs, batch, seconds, threads, seed=1):
    """Training batches: a random permutation cut into tickets of `batch` indices."""
    perm = np.random.default_rng(seed).permutation(n_obs)
    tickets = [fl.Ticket(json.dumps({"request": request(name),
                                     "indices": perm[s:s + batch].tolist()}).encode())
               for s in range(0, n_obs, batch)]
    deadline = time.perf_counter() + seconds

    def worker(k):
        rows = nbytes = 0
        with fl.connect(location) as client:
            for i in range(k, len(tickets), threads):
                if time.perf_counter() > deadline:
                    break
                r, b = drain(client, tickets[i])
                rows += r
                nbytes += b
        return rows, nbytes

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(worker, range(threads)))
    dt = time.perf_counter() - t0
    return sum(p[0] for p in parts), sum(p[1] for p in parts), dt


# ---------------------------------------------------------------- peers

class H5Store:
    """One .h5ad opened with h5py: X (CSR group or dense), cell_type codes, X_pca."""

    def __init__(self, path):
        self.f = h5py.File(path, "r")
        x = self.f["X"]
        self.sparse = isinstance(x, h5py.Group)
        if self.sparse:
            self.n, self.m = (int(v) for v in x.attrs["shape"])
            self.indptr, self.indices, self.data = x["indptr"], x["indices"], x["data"]
        else:
            self.n, self.m = x.shape
            self.x = x
        self.codes = self.f["obs"][OBS_KEY]["codes"]
        self.pca = self.f["obsm"][OBSM_KEY]

    def block(self, s, e, indptr_all):
        if self.sparse:
            ptr = indptr_all[s:e + 1]
            lo, hi = int(ptr[0]), int(ptr[-1])
            x = np.zeros((e - s, self.m), dtype=np.float32)
            rows = np.repeat(np.arange(e - s), np.diff(ptr))
            x[rows, self.indices[lo:hi]] = self.data[lo:hi]
        else:
            x = np.asarray(self.x[s:e], dtype=np.float32)
        return x, self.codes[s:e], self.pca[s:e]

    def row(self, i):
        """MappedCollection's per-row read (lamindb _get_data_idx / _get_label_idx / obsm)."""
        if self.sparse:
            s, e = self.indptr[i:i + 2]
            x = np.zeros(self.m, dtype=np.float32)
            x[self.indices[s:e]] = self.data[s:e]
        else:
            x = self.x[i]
        return x, self.codes[i], self.pca[i]


def h5py_blocks(paths, block=4096):
    t0 = time.perf_counter()
    rows = nbytes = 0
    for p in paths:
        st = H5Store(p)
        indptr_all = st.indptr[:] if st.sparse else None
        for s in range(0, st.n, block):
            x, codes, pca = st.block(s, min(st.n, s + block), indptr_all)
            rows += x.shape[0]
            nbytes += x.nbytes + codes.nbytes + pca.nbytes
    return rows, nbytes, time.perf_counter() - t0


def row_order(stores, shuffled, seed=1):
    """(store, local row) pairs over the collection, in order or shuffled."""
    pairs = [(k, i) for k, st in enumerate(stores) for i in range(st.n)]
    if shuffled:
        rng = np.random.default_rng(seed)
        return [pairs[j] for j in rng.permutation(len(pairs))]
    return pairs


def per_row(read_row, stores, shuffled, seconds):
    order = row_order(stores, shuffled)
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    rows = nbytes = 0
    for k, i in order:
        x, code, pca = read_row(k, i)
        rows += 1
        nbytes += x.nbytes + np.asarray(code).nbytes + pca.nbytes
        if rows % 64 == 0 and time.perf_counter() > deadline:
            break
    return rows, nbytes, time.perf_counter() - t0


def lamindb_rows(paths, shuffled, seconds):
    """lamindb's own MappedCollection (X, cell_type, X_pca), one row at a time (mc[i]), in
    order or shuffled; None when the peer is absent."""
    cls = peers.peer_class()
    if cls is None:
        return None
    with cls([str(p) for p in paths], obs_keys=[OBS_KEY], obsm_keys=[OBSM_KEY]) as mc:
        order = (np.random.default_rng(1).permutation(len(mc)) if shuffled
                 else np.arange(len(mc)))
        mc[int(order[0])]  # opens the stores
        deadline = time.perf_counter() + seconds
        t0 = time.perf_counter()
        rows = nbytes = 0
        for i in order:
            item = mc[int(i)]
            rows += 1
            nbytes += item["X"].nbytes + item["obsm_" + OBSM_KEY].nbytes + 8
            if rows % 64 == 0 and time.perf_counter() > deadline:
                break
        return rows, nbytes, time.perf_counter() - t0


def anndata_backed(paths, shuffled, seconds):
    import anndata
    ads = [anndata.read_h5ad(p, backed="r") for p in paths]

    class Sized:
        def __init__(self, n):
            self.n = n

    codes = [a.obs[OBS_KEY].cat.codes.to_numpy() for a in ads]

    def read_row(k, i):
        a = ads[k]
        x = a.X[i]
        x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
        return x.astype(np.float32, copy=False), codes[k][i], np.asarray(a.obsm[OBSM_KEY][i])

    return per_row(read_row, [Sized(a.n_obs) for a in ads], shuffled, seconds)


# ---------------------------------------------------------------- report

def best(fn, passes):
    out = None
    for _ in range(passes):
        r = fn()
        if out is None or r[0] / r[2] > out[0] / out[2]:
            out = r
    return out


def fmt_rate(r):
    rows, nbytes, dt = r
    return rows / dt, nbytes / dt / 1e6


def add_collection_args(ap: argparse.ArgumentParser):
    """--dir, --jar, --cells, --genes: the benchmark collection and the server jar, shared by
    the benchmarks that read this collection (sampling_bench.py, torch_bench.py)."""
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench/throughput"))
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--cells", type=int, default=50_000)
    ap.add_argument("--genes", type=int, default=2_000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/annflight-bench/throughput"))
    ap.add_argument("--cells", type=int, default=50_000)
    ap.add_argument("--genes", type=int, default=2_000)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--density", type=float, default=0.05)
    ap.add_argument("--layouts", default="csr,dense")
    ap.add_argument("--only", default="annflight,peers",
                    help="annflight, peers, or both (comma separated)")
    ap.add_argument("--passes", type=int, default=3, help="best of N for whole-collection reads")
    ap.add_argument("--warmup", type=float, default=20.0,
                    help="seconds of untimed traffic (whole passes and shuffled tickets, with "
                         "every compression) per layout before measuring: the JIT needs them")
    ap.add_argument("--compression", default="none,lz4",
                    help="request compressions to measure annflight with (comma separated: "
                         "none, lz4, zstd)")
    ap.add_argument("--no-csr-wire", action="store_true",
                    help="leave out the measurements with X sent as CSR rows")
    ap.add_argument("--batch", type=int, default=256, help="indices per shuffled ticket")
    ap.add_argument("--seconds", type=float, default=8.0,
                    help="time limit of each shuffled or per-row measurement")
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--xmx", default="", help="server heap, e.g. 512m")
    ap.add_argument("--java-opt", action="append", default=[],
                    help="extra JVM option for the server (repeatable)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    if REPO in args.dir.resolve().parents:
        sys.exit("--dir must be outside the repository")
    layouts = [s for s in args.layouts.split(",") if s]
    compressions = [s for s in args.compression.split(",") if s]
    only = set(args.only.split(","))

    t0 = time.time()
    colls = synthetic.write_collection(args.dir, args.cells, args.genes, args.files,
                                       args.density, layouts)
    print(f"collection ready in {time.time() - t0:.0f} s: "
          + ", ".join(f"{lay}: {sum(p.stat().st_size for p in ps) / 1e6:,.0f} MB"
                      for lay, ps in colls.items()), flush=True)

    results = {}  # (measurement, layout) -> (rows, bytes, seconds)
    cpu = {}  # (measurement, layout) -> (server, client) CPU seconds per row
    peaks = {}
    if "annflight" in only:
        if not args.jar.exists():
            sys.exit(f"{args.jar} is missing: run mvn -B -q package -DskipTests")
        server = Server(args.jar, colls, args.xmx, args.java_opt)
        try:
            loc = server.location
            # (tag, compression, matrix_format) of each way the raw pyarrow client reads
            ways = [("" if c == "none" else f", {c}", c, "dense") for c in compressions]
            if not args.no_csr_wire:
                ways.append((", csr wire", "none", "csr"))

            def timed(fn):
                """fn's (rows, bytes, seconds), its CPU per row noted on the side."""
                s0, c0 = server.cpu_seconds(), client_cpu_seconds()
                r = fn()
                timed.cpu = ((server.cpu_seconds() - s0) / r[0], (client_cpu_seconds() - c0) / r[0])
                return r

            def best_interleaved(ways_fns):
                """Best of --passes for each (key, fn), the ways taking turns pass by pass:
                none is measured only while the server is less warm than for the others."""
                for _ in range(args.passes):
                    for key, fn in ways_fns:
                        r = timed(fn)
                        out = results.get(key)
                        if out is None or r[0] / r[2] > out[0] / out[2]:
                            results[key], cpu[key] = r, timed.cpu

            def sequential_way(comp, fmt):
                def run():
                    global COMPRESSION, MATRIX_FORMAT
                    COMPRESSION, MATRIX_FORMAT = comp, fmt
                    return annflight_sequential(loc, lay)
                return run

            af = annflight.connect(loc)
            for lay in layouts:
                n = args.cells
                # A long-running server is warm: let the JIT compile the hot paths first.
                global COMPRESSION, MATRIX_FORMAT
                end = time.time() + args.warmup
                while time.time() < end:
                    package_numpy(af, lay)
                    for _, comp, fmt in ways:
                        COMPRESSION, MATRIX_FORMAT = comp, fmt
                        annflight_sequential(loc, lay)
                        annflight_shuffled(loc, lay, n, args.batch, 1.0, 1)
                server.reset_peak()
                best_interleaved([(("annflight numpy_batches (package)", lay),
                                   lambda: package_numpy(af, lay))]
                                 + [((f"annflight sequential{tag}", lay),
                                     sequential_way(comp, fmt)) for tag, comp, fmt in ways])
                for tag, comp, fmt in ways:
                    COMPRESSION, MATRIX_FORMAT = comp, fmt
                    results[f"annflight parallel endpoints{tag}", lay] = best(
                        lambda: annflight_parallel(loc, lay), args.passes)
                    results[f"annflight shuffled 256, 1 thread{tag}", lay] = annflight_shuffled(
                        loc, lay, n, args.batch, args.seconds, 1)
                    results[f"annflight shuffled 256, 4 threads{tag}", lay] = (
                        annflight_shuffled(loc, lay, n, args.batch, args.seconds, 4))
                COMPRESSION, MATRIX_FORMAT = "none", "dense"
                peaks[lay] = (server.peak_anon(), server.peak_rss())
                print(f"annflight {lay} done", flush=True)
            af.close()
        finally:
            server.stop()
    if "peers" in only:
        for lay in layouts:
            paths = colls[lay]
            results["h5py blocks of 4096", lay] = best(lambda: h5py_blocks(paths), args.passes)
            for shuffled, tag in ((False, "in order"), (True, "shuffled")):
                r = lamindb_rows(paths, shuffled, args.seconds)
                if r is not None:
                    results[f"lamindb MappedCollection rows, {tag}", lay] = r
            results["anndata backed rows, shuffled", lay] = anndata_backed(
                paths, True, args.seconds)
            print(f"peers {lay} done", flush=True)

    report(results, layouts, peaks, args, cpu)
    if args.json:
        args.json.write_text(json.dumps({
            "args": {k: str(v) for k, v in vars(args).items()},
            "results": [{"measurement": m, "layout": lay, "rows": r, "bytes": b, "seconds": s}
                        for (m, lay), (r, b, s) in results.items()],
            "cpu_per_row": [{"measurement": m, "layout": lay, "server_s": sv, "client_s": cl}
                            for (m, lay), (sv, cl) in cpu.items()],
            "server_peak_rss": peaks}, indent=1))


def report(results, layouts, peaks, args, cpu=None):
    title = (f"{args.cells:,} cells x {args.genes:,} genes in {args.files} files, "
             f"X + {OBS_KEY} codes + {OBSM_KEY} as numpy; rows/s (MB/s)")
    names = list(dict.fromkeys(m for m, _ in results))
    w = max([42] + [len(m) for m in names])
    out = [f"| {'measurement':{w}} |" + "".join(f" {lay + ' rows/s (MB/s)':>24} |"
                                              for lay in layouts),
           "|" + "-" * (w + 2) + "|" + "".join("-" * 25 + ":|" for _ in layouts)]
    for m in names:
        cells = []
        for lay in layouts:
            r = results.get((m, lay))
            if r is None:
                cells.append(f" {'-':>24} |")
            else:
                rows, mb = fmt_rate(r)
                cells.append(f" {f'{rows:,.0f} ({mb:,.0f})':>24} |")
        out.append(f"| {m:{w}} |" + "".join(cells))
    pairs = [(a, b) for a in ("annflight numpy_batches (package)",) for b in (
        "lamindb MappedCollection rows, in order", "lamindb MappedCollection rows, shuffled",
        "h5py blocks of 4096")]
    pairs += [(a + tag, b) for tag in ("", ", lz4", ", zstd", ", csr wire") for a, b in [
        ("annflight sequential", "h5py blocks of 4096"),
        ("annflight sequential", "lamindb MappedCollection rows, in order"),
        ("annflight sequential", "lamindb MappedCollection rows, shuffled"),
        ("annflight parallel endpoints", "h5py blocks of 4096"),
        ("annflight shuffled 256, 1 thread", "lamindb MappedCollection rows, shuffled"),
        ("annflight shuffled 256, 1 thread", "anndata backed rows, shuffled")]]
    lines = []
    for a, b in pairs:
        ratios = []
        for lay in layouts:
            if (a, lay) in results and (b, lay) in results:
                ra = fmt_rate(results[a, lay])[0]
                rb = fmt_rate(results[b, lay])[0]
                ratios.append(f"{lay} {ra / rb:,.2f}x")
        if ratios:
            lines.append(f"- {a} / {b}: " + ", ".join(ratios))
    if lines:
        out += ["", "Ratios (rows/s, same run):", ""] + lines
    if cpu:
        out += ["", "CPU time per row, microseconds (server process, all threads / this client"
                    " process), of the fastest pass:", ""]
        for m in names:
            cells = [f"{lay} {cpu[m, lay][0] * 1e6:.2f} / {cpu[m, lay][1] * 1e6:.2f}"
                     for lay in layouts if (m, lay) in cpu]
            if cells:
                out.append(f"- {m}: " + ", ".join(cells))
    for lay, (anon, rss) in peaks.items():
        out.append(f"\nServer peak memory during the {lay} runs: {anon / 2**20:,.0f} MiB"
                   f" anonymous (heap, direct buffers), {rss / 2**20:,.0f} MiB RSS including"
                   " mapped store pages" + (f"; -Xmx{args.xmx}" if args.xmx else ""))
    table = "\n".join(out)
    print(f"\n{title}\n{table}\nMeasured with {peers.load_note()}.")
    peers.write_outputs(args.out, "throughput", title, table,
                        {f"{m}, {lay}": fmt_rate(r)[0] for (m, lay), r in results.items()},
                        unit="rows/s")


if __name__ == "__main__":
    main()
