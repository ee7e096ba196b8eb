"""The package as a newcomer installs it: ``pip install ./python`` into a fresh venv (the server
jar inside it), no server running, nothing started by hand.

The fresh venv is made once per module from Debian's python with system site packages
(numpy, pandas, anndata) and the local wheelhouse (pyarrow, tqdm, and hatchling for the
isolated build); torch is taken from the test venv through a .pth file added after the install,
so it is not installed a second time.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import numpy as np
import pyarrow.flight as fl
import pytest

import annflight
from expected import FIXTURES, REPO, Expected

SYSTEM_PYTHON = "/usr/bin/python3"
WHEELHOUSE = ["--index-url", "file:///opt/pypi/simple", "--find-links", "/opt/wheels"]
STORES = ["dense.h5ad", "csr.zarr"]
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 600  # a bound, not a speed target: the machine is shared and slow at times

TUTORIAL = r'''
import json, os, sys
import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
from annflight import MappedCollection      # was: from lamindb.core import MappedCollection

paths = sys.argv[1:]
dataset = MappedCollection(paths, obs_keys=["cell_type"])
weights = dataset.get_label_weights("cell_type")
sampler = WeightedRandomSampler(weights=weights, num_samples=len(dataset),
                                generator=torch.Generator().manual_seed(0))
loader = DataLoader(dataset, batch_size=16, sampler=sampler, num_workers=2)
X, codes = [], []
for batch in loader:
    X.append(batch["X"].numpy())
    codes.append(batch["cell_type"].numpy())
order = list(WeightedRandomSampler(weights=weights, num_samples=len(dataset),
                                   generator=torch.Generator().manual_seed(0)))

import annflight.target as target
local = target._server
np.savez(os.environ["OUT"], X=np.concatenate(X), codes=np.concatenate(codes),
         order=np.array(order), weights=np.asarray(weights))
print(json.dumps({"pid": local.process.process.pid, "log": str(local.process.log_path),
                  "dir": local._dir, "jar": local.process.command[2],
                  "uri": local.target.uri}))
'''


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANNFLIGHT_URI", "ANNFLIGHT_JAR", "ANNFLIGHT_LOCAL_SERVER",
                        "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(extra)
    return env


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, **kw)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=RUN_TIMEOUT_S)
    # The build hook takes the jar the tests use (ANNFLIGHT_JAR, as conftest does).
    jar = os.environ.get("ANNFLIGHT_JAR", str(REPO / "flight-server/target/annflight-server.jar"))
    install = _run([str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check",
                    *WHEELHOUSE, str(REPO / "python")],
                   env={**_clean_env(), "ANNFLIGHT_JAR": jar})
    assert install.returncode == 0, install.stdout + install.stderr
    purelib = Path(_run([str(venv / "bin/python"), "-c",
                         "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                        ).stdout.strip())
    (purelib / "zz-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores")
    for name in STORES:
        src = FIXTURES / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def _running(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:  # not our child: look at /proc
        return Path(f"/proc/{pid}").exists() and \
            Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_lamindb_tutorial_loop_runs_with_only_the_import_changed(fresh, stores, tmp_path):
    out = tmp_path / "batches.npz"
    # One path relative to the working directory, one absolute: as lamindb takes them.
    result = _run([str(fresh / "bin/python"), "-c", TUTORIAL, STORES[0], str(stores / STORES[1])],
                  cwd=stores, env=_clean_env(OUT=str(out)))
    assert result.returncode == 0, result.stdout + result.stderr
    local = json.loads(result.stdout.strip().splitlines()[-1])
    # The server came from the fresh install, and is gone with the interpreter.
    assert local["jar"].startswith(str(fresh)), local["jar"]
    assert not _running(local["pid"]), f"local server {local['pid']} outlived its interpreter"
    assert not Path(local["log"]).exists() and not Path(local["dir"]).exists()
    with pytest.raises(fl.FlightUnavailableError):
        fl.connect(local["uri"]).list_actions(fl.FlightCallOptions(timeout=10))

    want = Expected(STORES, ["cell_type"])
    got = np.load(out)
    np.testing.assert_allclose(got["weights"], want.label_weights("cell_type")[0])
    order = got["order"]
    np.testing.assert_array_equal(got["X"], want.X()[order])
    codes = want.codes("cell_type")
    assert got["codes"].tolist() == [-1 if codes[r] is None else codes[r] for r in order]


def _start_console_script(cmd, env):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    found, log, ready = {}, [], threading.Event()

    def pump():
        for line in proc.stdout:
            log.append(line)
            m = re.search(r"listening on (grpc\+tcp://\S+)", line)
            if m and not ready.is_set():
                found["uri"] = m.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    ready.wait(START_TIMEOUT_S)
    return proc, found.get("uri"), log


def test_annflight_serve_console_script_answers_pyarrow(fresh, stores):
    proc, uri, log = _start_console_script(
        [str(fresh / "bin/annflight"), "serve", "--host", "127.0.0.1", "--port", "0",
         "--warmup-seconds", "0", "--data-root", str(stores)], _clean_env())
    try:
        assert uri, "annflight serve did not start:\n" + "".join(log)
        request = {"paths": STORES, "obs_keys": ["cell_type"]}
        client = fl.connect(uri)
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
        table = client.do_get(info.endpoints[0].ticket).read_all()
        for endpoint in info.endpoints[1:]:
            table = pa_concat(table, client.do_get(endpoint.ticket).read_all())
        client.close()
        assert table["cell_type"].to_pylist() == Expected(STORES, ["cell_type"]).labels("cell_type")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0  # SIGTERM reaches the server itself (exec), which drains


def pa_concat(a, b):
    import pyarrow as pa
    return pa.concat_tables([a, b])


def test_serve_context_manager_gives_a_uri_and_stops_the_server(stores):
    collections = {"pair": {"paths": STORES, "obs_keys": ["cell_type"]}}
    with annflight.serve(stores, collections=collections) as uri:
        with annflight.connect(uri) as af:
            assert af.collections() == ["pair"]
            labels = af.read({"collection": "pair"})["cell_type"].to_pylist()
    assert labels == Expected(STORES, ["cell_type"]).labels("cell_type")
    with pytest.raises(fl.FlightUnavailableError):
        fl.connect(uri).list_actions(fl.FlightCallOptions(timeout=10))


def test_without_java_the_error_says_what_to_install_and_where_it_looked(fresh, tmp_path):
    no_java = _clean_env(PATH=str(fresh / "bin"))
    no_java.pop("JAVA_HOME", None)
    result = _run([str(fresh / "bin/python"), "-c", "import annflight; annflight.connect()"],
                  env=no_java, cwd=tmp_path)
    assert result.returncode != 0
    assert "annflight.engine.JavaNotFound" in result.stderr
    assert "Java 17 or newer" in result.stderr
    assert "JAVA_HOME is not set" in result.stderr and "no java on PATH" in result.stderr
    script = _run([str(fresh / "bin/annflight"), "serve"], env=no_java, cwd=tmp_path)
    assert script.returncode == 2 and "Java 17 or newer" in script.stderr

    # A Java too old, named by JAVA_HOME.
    old = tmp_path / "jdk11"
    (old / "bin").mkdir(parents=True)
    java = old / "bin/java"
    java.write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    result = _run([str(fresh / "bin/python"), "-c", "import annflight; annflight.connect()"],
                  env={**no_java, "JAVA_HOME": str(old)}, cwd=tmp_path)
    assert result.returncode != 0
    assert f"JAVA_HOME: {java} is Java 11" in result.stderr


def test_building_the_package_without_the_jar_names_the_command_that_makes_it(tmp_path):
    result = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "--disable-pip-version-check", "-w", str(tmp_path), str(REPO / "python")],
                  env={**_clean_env(), "ANNFLIGHT_JAR": str(tmp_path / "missing.jar")})
    assert result.returncode != 0
    assert "mvn -B -q package -DskipTests" in result.stdout + result.stderr
    assert not list(tmp_path.glob("*.whl"))


def test_the_older_forms_warn_and_give_the_same_rows(server):
    from annflight.torch import AnnflightDataset

    request = {"collection": "demo", "obs_keys": ["cell_type"]}
    with pytest.warns(DeprecationWarning, match=r"MappedCollection\(path_list"):
        old = annflight.MappedCollection(server.uri, collection="demo", obs_keys="cell_type")
    new = annflight.MappedCollection(collection="demo", obs_keys="cell_type", uri=server.uri)
    with old, new:
        assert old.request == new.request
        rows = [3, 499, 0]
        for a, b in zip(old.__getitems__(rows), new.__getitems__(rows)):
            np.testing.assert_array_equal(a["X"], b["X"])
            assert a["cell_type"] == b["cell_type"]
    with pytest.warns(DeprecationWarning, match=r"AnnflightDataset\(request, uri=uri"):
        old_ds = AnnflightDataset(server.uri, request, batch_size=100)
    new_ds = AnnflightDataset(request, uri=server.uri, batch_size=100)
    assert old_ds.uri == new_ds.uri and old_ds.request == new_ds.request
    with pytest.raises(TypeError, match="the request comes first"):
        AnnflightDataset(server.uri, request, uri=server.uri)
