#!/usr/bin/env python3
"""Compatibility check over real-world AnnData stores (../shared/wild by default).

Starts the server jar on the stores' directory (127.0.0.1, a port it picks) and, for every
store and every MuData modality in it, reads everything through Flight: all obs columns, every
obsm array, and X (or obs only when the store has none). What it serves must equal:

- anndata 0.8's reading of the store, where anndata 0.8 reads it;
- for the Zarr v3 pbmc68k store, its twin h5ad as anndata 0.8 reads it;
- otherwise the store decoded independently of the server (tools/formats/anndata_ref.py:
  h5py, zarr-python 2, and a Zarr v3 reader written from the specification).

Damaged elements must be refused by name: categorical codes outside their categories
(anndataR's 1-based ``leiden``) and obsm data frames, each requested alone. Prints one line per
store and a total; exits 1 if any store fails.

    python tools/compat/check_wild.py [--wild DIR] [--jar JAR] [--s3]

With --s3 the corpus is uploaded to a bucket of an S3Proxy the script starts (127.0.0.1,
made-up credentials, from the classpath test-s3proxy/target/lib holds) and the server reads it
from there (--data-root s3://wild, credentials in the environment); the references are still
read from the local files. S3Proxy and its work directory are gone when the check ends, and
nothing listens on its port any more (checked). Needs boto3 then.

Needs pyarrow and the annflight package (the test venv has both) and Debian's anndata 0.8.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools/formats"))
sys.path.insert(0, str(REPO / "python/src"))

import anndata  # noqa: E402  (Debian's 0.8, through the venv's system site packages)
import pandas as pd  # noqa: E402
from scipy import sparse  # noqa: E402

import annflight  # noqa: E402
import s3proxy_runner  # noqa: E402
import anndata_ref  # noqa: E402
from annflight.arrow import fixed_size_list_matrix  # noqa: E402

# Folders whose store anndata 0.8 reads (the corpus README's "0.8 reads" column).
ANNDATA_08 = {"anndata-v0.5.0-h5ad", "anndata-v0.7.8-h5ad", "anndata-v0.7.8-zarr",
              "vitessce-ad0.7-csc", "vitessce-ad0.8-csr", "vitessce-ad0.9-dense",
              "anndatajs-ad0.10-noX", "anndata-v0.11.4-h5ad", "cxg-schema-2022",
              "zellkonverter-krumsiek11-aug", "scanpy-pbmc68k-2025-h5ad"}
# A store whose reference is another store holding the same data.
TWINS = {"scanpy-pbmc68k-zarr3": "scanpy-pbmc68k-2025-h5ad"}
# Columns the corpus README calls damaged: they must be refused, naming the element.
DAMAGED_OBS = {"anndataR-example-zarr": {"leiden"}}
STARTUP_S = 60


def store_in(folder: Path) -> Path:
    found = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
    if len(found) != 1:
        raise SystemExit(f"{folder}: expected one store, found {[p.name for p in found]}")
    return found[0]


def py(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


def dense(m):
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def reference_08(path: Path) -> anndata_ref.Reference:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = anndata.read_h5ad(path) if path.is_file() else anndata.read_zarr(str(path))
    columns = {}
    for c in a.obs.columns:
        s = a.obs[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = [py(x) for x in s.cat.categories]
            columns[c] = [None if k < 0 else cats[k] for k in s.cat.codes]
        else:
            columns[c] = [py(v) for v in s.astype(object)]
    obsm, frames = {}, []
    for k in a.obsm.keys():
        if isinstance(a.obsm[k], pd.DataFrame):
            frames.append(k)
        else:
            obsm[k] = dense(a.obsm[k])
    has_x = a.X is not None
    return anndata_ref.Reference(a.n_obs, a.n_vars, anndata_ref.Frame(list(a.obs_names), columns),
                                 list(a.var_names), dense(a.X) if has_x else None, {}, obsm,
                                 frames)


def same_values(got: list, want: list) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g is None or w is None:
            if g is not w:
                return False
        elif isinstance(w, float) or isinstance(g, float):
            if float(g) != float(w):
                return False
        elif g != w:
            return False
    return True


def same_matrix(column, want: np.ndarray) -> bool:
    got, valid = fixed_size_list_matrix(column.combine_chunks())
    want = want.reshape(want.shape[0], -1)
    return valid is None and got.shape == want.shape and np.array_equal(
        got.astype(np.float64), want.astype(np.float64), equal_nan=True)


def check_store(client, request_path: str, ref: anndata_ref.Reference, damaged: set) -> list:
    """Problems found serving one store (empty when it is served whole and equal)."""
    problems = []
    base = {"paths": [request_path]}
    info = client.describe({**base, "layers_keys": []})["stores"][0]
    if info["n_obs"] != ref.n_obs or info["n_vars"] != ref.n_vars:
        problems.append(f"shape {info['n_obs']}x{info['n_vars']}, expected {ref.n_obs}x{ref.n_vars}")
    if info["has_x"] != (ref.X is not None):
        problems.append(f"has_x {info['has_x']}, expected {ref.X is not None}")
    obs_keys = [c for c in info["obs_columns"] if c not in damaged]
    if set(info["obs_columns"]) - damaged != set(ref.obs.columns):
        problems.append(f"obs columns {info['obs_columns']}, expected {list(ref.obs.columns)}")
    kinds = info.get("obsm_kinds", {})
    obsm_keys = [k for k in info["obsm"] if kinds.get(k) in ("array", "csr_matrix", "csc_matrix")]
    frames = [k for k in info["obsm"] if kinds.get(k) == "dataframe"]
    if set(obsm_keys) != set(ref.obsm) or set(frames) != set(ref.obsm_frames):
        problems.append(f"obsm {kinds}, expected arrays {sorted(ref.obsm)} and frames {ref.obsm_frames}")
    request = {**base, "layers_keys": ["X"] if info["has_x"] else [], "obs_keys": obs_keys,
               "obsm_keys": obsm_keys, "encode_labels": False}
    table = client.read(request, progress=False)
    if table.num_rows != ref.n_obs:
        problems.append(f"{table.num_rows} rows served, expected {ref.n_obs}")
        return problems
    if ref.X is not None and not same_matrix(table["X"], ref.X):
        problems.append("X differs")
    for key in obs_keys:
        if not same_values(table[key].to_pylist(), ref.obs.columns.get(key, [])):
            problems.append(f"obs column {key} differs")
    for key in obsm_keys:
        if not same_matrix(table["obsm_" + key], ref.obsm[key]):
            problems.append(f"obsm {key} differs")
    refusals = [({**base, "layers_keys": [], "obs_keys": [c]}, f"obs/{c}") for c in damaged]
    refusals += [({**base, "layers_keys": [], "obsm_keys": [k]}, f"obsm/{k}") for k in frames]
    for req, element in refusals:
        try:
            client.read(req, progress=False)
            problems.append(f"{element} was served, expected a refusal naming it")
        except Exception as e:  # the server's error, as pyarrow raises it
            if element not in str(e):
                problems.append(f"{element} refused without naming it: {str(e)[:200]}")
    return problems


def start_server(jar: Path, root, s3=None):
    cmd = ["java", "-jar", str(jar), "serve", "--host", "127.0.0.1", "--port", "0",
           "--data-root", str(root)]
    env = None
    if s3 is not None:
        endpoint, keys = s3
        cmd += ["--s3-endpoint", endpoint, "--s3-path-style"]
        env = dict(os.environ, AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    found, log, ready = {}, [], threading.Event()

    def pump():
        for line in proc.stdout:
            log.append(line.rstrip("\n"))
            m = re.search(r"listening on (grpc\+tcp://\S+)", line)
            if m and not ready.is_set():
                found["uri"] = m.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(STARTUP_S) or "uri" not in found:
        proc.kill()
        raise SystemExit("server did not start:\n" + "\n".join(log))
    return proc, found["uri"], log


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wild", type=Path, default=REPO.parent / "shared/wild")
    ap.add_argument("--jar", type=Path, default=REPO / "flight-server/target/annflight-server.jar")
    ap.add_argument("--s3", action="store_true",
                    help="serve the corpus from an S3Proxy bucket the script starts")
    args = ap.parse_args(argv)
    wild = args.wild.resolve()
    folders = [p for p in sorted(wild.iterdir()) if p.is_dir()]
    if not args.s3:
        return check(wild, folders, args.jar, wild)
    # The bucket: an S3Proxy of its own over a work directory, both gone when the check ends
    # (its port too, checked: CI must leave nothing listening).
    with tempfile.TemporaryDirectory(prefix="check-wild-s3-") as workdir:
        s3proxy, endpoint, keys = s3proxy_runner.start(Path(workdir))
        try:
            t0 = time.time()
            n = s3proxy_runner.upload(wild, endpoint, keys, "wild")
            print(f"uploaded {n} files of {wild} to s3://wild at {endpoint}"
                  f" ({time.time() - t0:.1f} s)")
            return check(wild, folders, args.jar, "s3://wild", (endpoint, keys))
        finally:
            s3proxy_runner.stop(s3proxy, endpoint)


def check(wild: Path, folders, jar: Path, root, s3=None) -> int:
    """Serves `root` (the corpus, or its bucket) and checks every store against `wild`."""
    proc, uri, log = start_server(jar, root, s3)
    passed = failed = 0
    start = time.time()
    try:
        with annflight.connect(uri) as client:
            for folder in folders:
                store = store_in(folder)
                rel = str(store.relative_to(wild))
                targets = [(rel, "")]
                try:
                    mods = client.describe({"paths": [rel], "layers_keys": []})["stores"][0]["modalities"]
                    targets += [(f"{rel}/mod/{m}", f"mod/{m}") for m in mods]
                except Exception as e:
                    print(f"FAIL {rel}: describe failed: {str(e)[:300]}")
                    failed += 1
                    continue
                for path, root in targets:
                    t0 = time.time()
                    try:
                        if folder.name in TWINS and not root:
                            ref = reference_08(store_in(wild / TWINS[folder.name]))
                            how = f"twin {TWINS[folder.name]}"
                        elif folder.name in ANNDATA_08 and not root:
                            ref, how = reference_08(store), "anndata 0.8"
                        else:
                            ref = anndata_ref.read_anndata(
                                anndata_ref.open_tree(store), root,
                                DAMAGED_OBS.get(folder.name, set()) if not root else set())
                            how = "decoded independently"
                        problems = check_store(client, path, ref, DAMAGED_OBS.get(folder.name, set()) if not root else set())
                    except Exception as e:
                        problems = [f"{type(e).__name__}: {str(e)[:300]}"]
                        how = "?"
                    ms = (time.time() - t0) * 1000
                    if problems:
                        failed += 1
                        print(f"FAIL {path} ({how}): " + "; ".join(problems))
                    else:
                        passed += 1
                        x = "X" if ref.X is not None else "obs only"
                        print(f"ok   {path}: {ref.n_obs} x {ref.n_vars}, {x}, "
                              f"{len(ref.obs.columns)} obs columns, {len(ref.obsm)} obsm "
                              f"(= {how}, {ms:.0f} ms)")
    finally:
        s3proxy_runner.stop_process(proc)
    total = passed + failed
    print(f"compatibility: {passed} of {total} stores and modalities served whole and equal"
          f" ({time.time() - start:.1f} s)")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
