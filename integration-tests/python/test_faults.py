"""Faults an operator meets: clients killed or cancelling at any point, slow consumers, a store
truncated in place while it streams. The server must give every byte of Arrow memory back, log
no leak, stay up, and serve every read that completes correctly.

The stores are written here with anndata (a dense and a CSR copy of the same 6,000 x 1,000
float32 matrix, 5 % non-zero) into the session server's data root; expected values come from
anndata reading them back, not from the server. Every loop is bounded in count and time.
"""
import json
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import anndata
import numpy as np
import pandas as pd
import pyarrow.flight as fl
import pytest
from scipy import sparse

from conftest import READ_OPTIONS

N_OBS, N_VARS = 6_000, 1_000
STREAMS = 200
KILLED = 24  # of STREAMS: client processes killed with SIGKILL at a random moment
ROWS_PER_BATCH = 250  # 1 MB batches: every stream has several in flight
SETTLE_S = 90  # longest wait for the server to give its memory back (ends once it has)

# Runs in a child process that the test kills: reads until it is killed.
KILLED_CLIENT = r"""
import json, sys
import pyarrow.flight as fl
client = fl.connect(sys.argv[1])
for chunk in client.do_get(fl.Ticket(sys.argv[2].encode())):
    pass
"""


@pytest.fixture(scope="module")
def stores(server):
    rng = np.random.default_rng(5)
    X = ((rng.random((N_OBS, N_VARS), dtype=np.float32) < 0.05)
         * rng.integers(1, 100, (N_OBS, N_VARS))).astype(np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical(rng.choice(["a", "b", "c"], N_OBS))},
                       index=[f"c{i}" for i in range(N_OBS)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(N_VARS)])
    anndata.AnnData(X=X, obs=obs, var=var).write_h5ad(server.root / "faults_dense.h5ad")
    anndata.AnnData(X=sparse.csr_matrix(X), obs=obs, var=var).write_h5ad(
        server.root / "faults_csr.h5ad")
    back = anndata.read_h5ad(server.root / "faults_dense.h5ad").X  # what anndata reads
    assert np.array_equal(anndata.read_h5ad(server.root / "faults_csr.h5ad").X.toarray(), back)
    return back


def status(client) -> dict:
    result = next(client.do_action(fl.Action("server_status", b"{}")))
    return json.loads(result.body.to_pybytes())


def settled(client) -> dict:
    """The server's status once no stream runs or drains and no memory is held (bounded)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        s = status(client)
        quiet = s["streams_running"] == 0 and s["streams_draining"] == 0
        if (quiet and s["allocated_bytes"] == 0) or time.monotonic() > deadline:
            return s
        time.sleep(0.1)


def rss_bytes(server) -> int:
    with open(f"/proc/{server.process.pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024


def ticket(path: str, compression: str, start: int, stop: int) -> str:
    request = {"paths": [path], "compression": compression, "rows_per_batch": ROWS_PER_BATCH}
    return json.dumps({"request": request, "start": start, "stop": stop})


def matrix(chunk) -> np.ndarray:
    col = chunk.column("X")
    return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)


def leak_lines(server, since: int = 0) -> list:
    return [line for line in server.log[since:]
            if re.search(r"leak|still allocated|OutOfMemory|SIGBUS|fatal error", line, re.I)]


def warnings_since(server, since: int) -> list:
    """Log lines above INFO (SLF4J's WARN/ERROR, java.util.logging's WARNING/SEVERE)."""
    return [line for line in server.log[since:]
            if re.search(r"\b(WARN|WARNING|ERROR|SEVERE)\b", line)]


def test_clients_killed_cancelling_or_slow_leave_nothing_behind(server, client, stores):
    rng = random.Random(17)
    kinds = ["complete"] * 80 + ["cancel"] * 60 + ["close"] * 26 + ["slow"] * 10
    kinds += ["killed"] * KILLED
    assert len(kinds) == STREAMS
    rng.shuffle(kinds)
    plans = []
    for kind in kinds:
        start = rng.randrange(0, N_OBS - 1000)
        plans.append((kind, rng.choice(["faults_dense.h5ad", "faults_csr.h5ad"]),
                      rng.choice(["none", "lz4"]), start, start + rng.randrange(500, 1000)))

    # Warm up (the JVM's heap and code, the page cache), then take the baseline.
    for path in ("faults_dense.h5ad", "faults_csr.h5ad"):
        client.do_get(fl.Ticket(ticket(path, "lz4", 0, N_OBS).encode()), READ_OPTIONS).read_all()
    assert settled(client)["allocated_bytes"] == 0
    baseline = rss_bytes(server)
    log_start = len(server.log)

    def run(plan):
        kind, path, codec, start, stop = plan
        t = ticket(path, codec, start, stop)
        if kind == "killed":
            child = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, server.uri, t])
            time.sleep(rng.uniform(0.3, 1.5))  # the interpreter starts in about 0.3 s
            child.kill()
            child.wait(timeout=30)
            return None
        with fl.connect(server.uri) as c:
            reader = c.do_get(fl.Ticket(t.encode()), READ_OPTIONS)
            if kind == "close":
                reader.read_chunk()
                return None  # the connection closes with the reader mid-stream
            got = []
            for k, chunk in enumerate(reader):
                if kind == "cancel" and k == plan[3] % 3:
                    reader.cancel()
                    return None
                if kind == "slow":
                    time.sleep(0.05)
                got.append(matrix(chunk.data))
            return start, stop, np.concatenate(got)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, plans))
    completed = [r for r in results if r is not None]
    assert len(completed) == 90
    for start, stop, got in completed:
        np.testing.assert_array_equal(got, stores[start:stop])

    after = settled(client)
    assert after["allocated_bytes"] == 0, after
    assert after["streams_running"] == 0 and after["streams_draining"] == 0, after
    assert server.process.poll() is None
    assert leak_lines(server) == []
    # Clients going away are everyday events: nothing above the debug level in the log.
    assert warnings_since(server, log_start) == []
    # Memory back near where it was: the storm held at most a few batches per stream, and
    # nothing of it stays (the JVM keeps its heap, so allow for its growth, not for leaks).
    grown = rss_bytes(server) - baseline
    assert grown < 256 << 20, f"RSS grew by {grown >> 20} MiB over the storm"


@pytest.mark.parametrize("codec,layout", [("none", "dense"), ("lz4", "dense"), ("none", "csr")])
def test_a_store_truncated_while_it_streams_fails_that_stream_only(server, client, stores,
                                                                   codec, layout):
    # dense X is read by positional reads; CSR X's chunks through views of the file's mapping.
    name = f"faults_cut_{codec}_{layout}.h5ad"
    shutil.copy(server.root / f"faults_{layout}.h5ad", server.root / name)
    reader = client.do_get(fl.Ticket(ticket(name, codec, 0, N_OBS).encode()), READ_OPTIONS)
    first = reader.read_chunk()
    np.testing.assert_array_equal(matrix(first.data), stores[:first.data.num_rows])
    with open(server.root / name, "r+b") as f:  # an operator's rsync rewriting it in place
        f.truncate((server.root / name).stat().st_size // 10)
    with pytest.raises(fl.FlightError) as failure:
        for _ in range(2 * N_OBS // ROWS_PER_BATCH):  # bounded: at most every batch again
            reader.read_chunk()
    message = str(failure.value)
    assert name in message and "truncated" in message
    assert str(server.root) not in message
    # The process is alive and other streams are served, correctly.
    assert server.process.poll() is None
    table = client.do_get(fl.Ticket(ticket("faults_csr.h5ad", codec, 0, 500).encode()),
                          READ_OPTIONS).read_all()
    np.testing.assert_array_equal(matrix(table.combine_chunks().to_batches()[0]), stores[:500])
    assert settled(client)["allocated_bytes"] == 0
    assert leak_lines(server) == []
