"""A collection in an S3-compatible bucket, read through the unchanged Python package.

S3Proxy (a JVM of its own: 127.0.0.1, a free port, made-up SigV4 credentials, a filesystem
backend under integration-tests/target/) holds small stores this module writes with anndata
0.8 (a dense .h5ad and a CSR .zarr with its vars in another order), uploaded with boto3 under
s3://cells/atlas/. The server jar serves them with --data-root s3://cells/atlas, its
credentials in the environment. pyarrow.flight, annflight.MappedCollection and
annflight.torch.AnnflightDataset must read what anndata reads from the local copies; a missing
key is NotFound, refused credentials Unauthorized (S3Proxy restarted on its port with other
keys: the server's were rotated away), and the secret is in no message or log line.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as fl
import pytest
from scipy import sparse

import annflight
from annflight.torch import AnnflightDataset
from arrow_values import codes, dictionaries, matrix
from conftest import JAR, JAVA, READ_OPTIONS, start_jar, stop_jar
from expected import REPO, Expected

sys.path.insert(0, str(REPO / "tools/compat"))
import s3proxy_runner  # noqa: E402

BUCKET, PREFIX = "cells", "atlas"
PATHS = ["a.h5ad", "b.zarr"]
OBS = ["cell_type"]


def write_stores(directory):
    """a.h5ad: 40 x 12 dense float32; b.zarr: 30 x 12 CSR with the vars reversed and other
    categories; c.h5ad: a.h5ad again, read only once the credentials are rotated."""
    rng = np.random.default_rng(27)
    var = pd.DataFrame(index=[f"g{i}" for i in range(12)])

    def obs(n, labels):
        return pd.DataFrame({"cell_type": pd.Categorical(rng.choice(labels, n),
                                                         categories=labels)},
                            index=[f"c{i}" for i in range(n)])

    a = anndata.AnnData(X=rng.random((40, 12), dtype=np.float32), obs=obs(40, ["B", "T", "NK"]),
                        var=var, obsm={"X_pca": rng.random((40, 3))})
    dense_b = rng.random((30, 12), dtype=np.float32)
    dense_b[dense_b < 0.6] = 0
    b = anndata.AnnData(X=sparse.csr_matrix(dense_b), obs=obs(30, ["T", "DC", "B"]),
                        var=var.iloc[::-1].copy(), obsm={"X_pca": rng.random((30, 3))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.write_h5ad(directory / "a.h5ad")
        b.write_zarr(str(directory / "b.zarr"))
    shutil.copy(directory / "a.h5ad", directory / "c.h5ad")


class Bucket:
    """S3Proxy holding the stores under s3://cells/atlas/, and the local copies."""

    def __init__(self, workdir, local):
        self.workdir, self.local = workdir, local
        self.proc, self.endpoint, self.keys = s3proxy_runner.start(workdir / "s3proxy")
        s3proxy_runner.upload(local, self.endpoint, self.keys, BUCKET, PREFIX + "/")

    def rotate_keys(self):
        """S3Proxy again, on its port and backend, accepting other credentials only."""
        s3proxy_runner.stop(self.proc, self.endpoint)
        self.proc = None
        port = int(self.endpoint.rsplit(":", 1)[1])
        self.proc, self.endpoint, self.keys = s3proxy_runner.start(
            self.workdir / "s3proxy", port=port,
            keys=("rotated-" + secrets.token_hex(4), secrets.token_hex(16)))

    def stop(self):
        if self.proc is not None:
            s3proxy_runner.stop(self.proc, self.endpoint)
            self.proc = None


def serve_args(bucket):
    return ["--data-root", f"s3://{BUCKET}/{PREFIX}", "--s3-endpoint", bucket.endpoint,
            "--s3-path-style"]


def server_env(keys):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1], AWS_REGION="us-east-1")
    return env


@pytest.fixture(scope="module")
def bucket():
    target = REPO / "integration-tests/target"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="s3proxy-pytest-", dir=target) as work:
        work = Path(work)
        local = work / "local"
        local.mkdir()
        write_stores(local)
        try:
            b = Bucket(work, local)
        except SystemExit as e:  # the runner's way of saying S3Proxy did not start
            pytest.fail(str(e))
        try:
            yield b
        finally:
            b.stop()


@pytest.fixture(scope="module")
def s3_server(bucket):
    proc, uri, log = start_jar(serve_args(bucket), env=server_env(bucket.keys))
    try:
        yield uri, log
    finally:
        stop_jar(proc)
        # Credentials are never logged.
        assert not [line for line in log if bucket.keys[1] in line]


@pytest.fixture(scope="module")
def expected(bucket):
    return Expected(PATHS, OBS, ["X_pca"], directory=bucket.local)


def test_pyarrow_flight_reads_the_bucket_as_anndata_reads_the_files(s3_server, expected):
    uri, _ = s3_server
    client = fl.connect(uri)
    try:
        request = {"paths": PATHS, "obs_keys": OBS, "obsm_keys": ["X_pca"]}
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
        assert info.total_records == expected.n_obs == 70
        table = pa.concat_tables([client.do_get(ep.ticket, READ_OPTIONS).read_all()
                                  for ep in info.endpoints])
        np.testing.assert_array_equal(matrix(table["X"], np.float32), expected.X())
        assert table["_store_idx"].to_pylist() == expected.store_idx().tolist()
        assert all(d == expected.dictionary("cell_type") for d in dictionaries(table["cell_type"]))
        assert codes(table["cell_type"]) == expected.codes("cell_type")
        np.testing.assert_allclose(matrix(table["obsm_X_pca"], np.float64),
                                   np.stack(expected.obsm("X_pca")))
        describe = next(client.do_action(fl.Action("describe", json.dumps(
            {"paths": PATHS}).encode()))).body.to_pybytes()
        assert [s["n_obs"] for s in json.loads(describe)["stores"]] == [40, 30]
    finally:
        client.close()


def test_mapped_collection_reads_the_bucket(s3_server, expected):
    uri, _ = s3_server
    with annflight.MappedCollection(PATHS, layers_keys="X", obs_keys=OBS, obsm_keys=["X_pca"],
                                    uri=uri) as mc:
        assert len(mc) == expected.n_obs
        assert mc.shape == (expected.n_obs, len(expected.var_joint))
        assert mc.original_shapes == [(40, 12), (30, 12)]
        assert list(mc.var_joint) == list(expected.var_joint)
        assert mc.get_merged_categories("cell_type") == expected.merged_categories("cell_type")
        X, want_codes = expected.X(), expected.codes("cell_type")
        rows = [0, 39, 40, 55, 69, 3]
        for r, got in zip(rows, mc.__getitems__(rows)):
            np.testing.assert_array_equal(got["X"], X[r])
            assert got["cell_type"] == want_codes[r]
            assert got["_store_idx"] == expected.store_idx()[r]
            np.testing.assert_allclose(got["obsm_X_pca"], expected.obsm("X_pca")[r])


def test_torch_dataset_reads_an_epoch_from_the_bucket(s3_server, expected):
    uri, _ = s3_server
    ds = AnnflightDataset({"paths": PATHS, "obs_keys": OBS}, uri=uri, batch_size=16,
                          sampler={"kind": "block_shuffle", "block_size": 8})
    seen, xs, ys = [], [], []
    for batch in ds:
        seen.extend(batch["_row"].tolist())
        xs.append(batch["X"].numpy())
        ys.append(batch["cell_type"].numpy())
    assert sorted(seen) == list(range(expected.n_obs)) and seen != sorted(seen)
    np.testing.assert_array_equal(np.concatenate(xs), expected.X()[seen])
    want = expected.codes("cell_type")
    np.testing.assert_array_equal(np.concatenate(ys), [want[r] for r in seen])


def test_a_missing_key_is_not_found_naming_it(s3_server):
    uri, _ = s3_server
    with pytest.raises(annflight.NotFound, match="missing.h5ad") as e:
        annflight.MappedCollection(["a.h5ad", "missing.h5ad"], uri=uri)
    assert f"s3://{BUCKET}" not in str(e.value)  # named as the client named it
    with pytest.raises(annflight.InvalidRequest, match=r"\.\."):
        annflight.MappedCollection(["../outside.h5ad"], uri=uri)
    with annflight.connect(uri) as client:
        with pytest.raises(annflight.NotFound, match="missing.zarr"):
            client.shape({"paths": ["missing.zarr"]})


def test_a_server_started_with_wrong_credentials_says_so_and_exits(bucket):
    wrong = (bucket.keys[0], "not-the-" + secrets.token_hex(8))
    cmd = [JAVA, "-jar", str(JAR), "serve", "--host", "127.0.0.1", "--port", "0",
           *serve_args(bucket), "--s3-attempts", "1"]
    done = subprocess.run(cmd, env=server_env(wrong), capture_output=True, text=True,
                          timeout=90)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"s3://{BUCKET}/{PREFIX}" in out and "refused the server's credentials" in out, out
    assert "\tat " not in out, "a stack trace rather than a message: " + out
    assert wrong[1] not in out


def test_rotated_credentials_are_unauthorized_through_python(bucket, s3_server):
    """Runs last in this module: S3Proxy then accepts other keys than the server has."""
    uri, log = s3_server
    bucket.rotate_keys()
    with annflight.connect(uri) as client:
        # c.h5ad was never opened: the server must ask the bucket, which refuses it.
        with pytest.raises(annflight.Unauthorized, match="c.h5ad") as e:
            client.shape({"paths": ["c.h5ad"]})
    assert bucket.keys[1] not in str(e.value)
    with pytest.raises(annflight.Unauthorized):
        annflight.MappedCollection(["c.h5ad"], uri=uri)
