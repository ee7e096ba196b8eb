"""The real server jar as a separate process, over copies of the project's fixtures.

One server per test session, on 127.0.0.1 with a port the server picks (`--port 0`; the port is
read from its "listening on grpc+tcp://..." log line). Collections:

- ``fix``: dense.h5ad (dense X), csr.zarr (CSR, reversed var order), csc.h5ad (CSC, no obsm),
  f_same_var.zarr, with obs keys cell_type and tissue and obsm X_pca; at most 40 rows per
  endpoint so that the 60- and 50-row stores are split.
- ``demo``: the bundled demo collection (pbmc_a.h5ad + pbmc_b.zarr), used by the README.

``--data-root`` is the same directory, so requests may also name ``paths``.
"""
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from expected import DEMO, FIXTURES, REPO

DEMO_PATHS = json.loads((DEMO / "collection.json").read_text())["paths"]
JAR = Path(os.environ.get("ANNFLIGHT_JAR", REPO / "flight-server/target/annflight-server.jar"))
JAVA = os.environ.get("ANNFLIGHT_JAVA") or shutil.which("java") or "java"

FIX_PATHS = ["dense.h5ad", "csr.zarr", "csc.h5ad", "f_same_var.zarr"]
FIX_OBS_KEYS = ["cell_type", "tissue"]
FIX_OBSM_KEYS = ["X_pca"]
MAX_ROWS_PER_ENDPOINT = 40
STARTUP_TIMEOUT_S = 60

# Aligned buffers, as the README recommends.
READ_OPTIONS = fl.FlightCallOptions(read_options=pa.ipc.IpcReadOptions(
    ensure_alignment=pa.ipc.Alignment.DataTypeSpecific))


@dataclass
class Server:
    uri: str
    root: Path
    process: subprocess.Popen
    log: List[str] = field(default_factory=list)


def _copy_data(root: Path):
    # Every fixture store (the engine cases name them all), not the expected-value files.
    for src in sorted(FIXTURES.iterdir()):
        if src.suffix in (".h5ad", ".zarr"):
            (shutil.copytree if src.is_dir() else shutil.copy)(src, root / src.name)
    for name in DEMO_PATHS:
        src = DEMO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    config = {"collections": {
        "fix": {"paths": FIX_PATHS, "obs_keys": FIX_OBS_KEYS, "obsm_keys": FIX_OBSM_KEYS},
        "demo": {"paths": DEMO_PATHS},
    }}
    (root / "annflight.json").write_text(json.dumps(config, indent=1))


def start_jar(args: List[str], jvm_args: List[str] = (), env: Optional[Dict[str, str]] = None,
              java: str = JAVA):
    """Starts the server jar with `args` after `serve` (and `jvm_args` before `-jar`, e.g. a
    heap size; `env`: the process's environment, default this one's; `java`: the launcher,
    default ANNFLIGHT_JAVA or the one on PATH) and waits for its "listening on" line.
    Returns (process, uri, log lines); the log keeps filling while the process runs. Fails the
    test when the server does not start within STARTUP_TIMEOUT_S."""
    if not JAR.is_file():
        pytest.fail(f"server jar {JAR} not found: build it with `mvn -B -q package -DskipTests`")
    port = [] if "--port" in args else ["--port", "0"]  # a free one unless asked for one
    # No warm-up unless a test asks for it: it only delays the start of the test's server.
    warmup = [] if "--warmup-seconds" in args else ["--warmup-seconds", "0"]
    cmd = [java, *jvm_args, "-jar", str(JAR), "serve", "--host", "127.0.0.1"] + port + warmup + list(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    log: List[str] = []
    found = {}
    ready = threading.Event()

    def pump():  # keeps the pipe drained while the server runs
        for line in proc.stdout:
            log.append(line.rstrip("\n"))
            m = re.search(r"listening on (grpc\+(?:tcp|tls)://\S+)", line)
            if m and not ready.is_set():
                found["uri"] = m.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=pump, name="annflight-server-log", daemon=True).start()
    if not ready.wait(STARTUP_TIMEOUT_S) or "uri" not in found:
        stop_jar(proc)
        pytest.fail(f"server did not start within {STARTUP_TIMEOUT_S} s: {' '.join(cmd)}\n"
                    + "\n".join(log))
    return proc, found["uri"], log


def metrics_url(log: List[str]) -> str:
    """Where a server started with `--metrics-port 0` serves /metrics: the port it picked,
    logged before "listening on" (a port picked beforehand may be taken meanwhile)."""
    return next(re.search(r"metrics on (http://\S+/metrics)", line).group(1)
                for line in log if "metrics on http" in line)


def stop_jar(proc):
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    _copy_data(root)
    proc, uri, log = start_jar(["--data-root", str(root), "--config", str(root / "annflight.json"),
                                "--max-rows-per-endpoint", str(MAX_ROWS_PER_ENDPOINT)])
    try:
        yield Server(uri, root, proc, log)
    finally:
        stop_jar(proc)


@pytest.fixture(scope="session")
def client(server):
    c = fl.connect(server.uri)
    yield c
    c.close()
