"""The server on every JDK this machine has (17 or newer, one per major version): the jar
starts, warms up and serves values equal to anndata's, over gRPC (dense with LZ4, CSR rows) and
through shared memory. Netty turns sun.misc.Unsafe off by default from Java 25 on, and every
DoGet then failed with a ClassCastException in Arrow's allocator; `java -jar` picks whatever
JDK a user has. Skipped where only one major version is installed (JDKs are looked for under
/usr/lib/jvm, beside ANNFLIGHT_JAVA or the `java` on PATH)."""
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from annflight import Client, shm
from annflight.engine import java_major_version
from conftest import JAVA, start_jar, stop_jar

GENES = 300


def _javas() -> dict:
    """{major version: java launcher}, the first found of each major version from 17 on."""
    found = {}
    for java in [JAVA, *(str(p) for p in sorted(Path("/usr/lib/jvm").glob("*/bin/java")))]:
        version = java_major_version(java)
        if version is not None and version >= 17:
            found.setdefault(version, java)
    return found


JAVAS = _javas()
pytestmark = pytest.mark.skipif(len(JAVAS) < 2, reason=f"only Java {sorted(JAVAS)} here")


def _adata(n_obs: int, seed: int, dense: bool) -> anndata.AnnData:
    rng = np.random.default_rng(seed)
    x = sparse.random(n_obs, GENES, density=0.1, format="csr", dtype=np.float32,
                      random_state=seed)
    x.data = rng.integers(1, 100, size=x.nnz).astype(np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical(rng.choice(["B", "T", "NK"], n_obs))},
                       index=[f"s{seed}_c{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(GENES)])
    return anndata.AnnData(X=x.toarray() if dense else x, obs=obs, var=var,
                           obsm={"X_pca": rng.normal(size=(n_obs, 8)).astype(np.float32)})


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("javas")
    adatas = [_adata(700, 0, dense=False), _adata(500, 1, dense=True)]
    adatas[0].write_h5ad(root / "a.h5ad")
    adatas[1].write_zarr(root / "b.zarr")
    return root, adatas


@pytest.fixture(scope="module", params=sorted(JAVAS), ids=lambda v: f"java{v}")
def served(request, stores):
    root, adatas = stores
    proc, uri, log = start_jar(["--data-root", str(root), "--warmup-seconds", "1"],
                               java=JAVAS[request.param])
    try:
        yield uri, adatas, log
    finally:
        stop_jar(proc)


def _expected(adatas):
    x = np.vstack([a.X.toarray() if sparse.issparse(a.X) else a.X for a in adatas])
    cats = sorted(set().union(*(a.obs["cell_type"].cat.categories for a in adatas)))
    codes = np.concatenate([[cats.index(v) for v in a.obs["cell_type"]] for a in adatas])
    return x, codes, np.vstack([a.obsm["X_pca"] for a in adatas])


@pytest.mark.parametrize("transport,shared", [("dense", False), ("csr", False), ("csr", True)])
def test_values_equal_anndata(served, transport, shared):
    uri, adatas, log = served
    if shared and not shm.available():
        pytest.skip("no /dev/shm on this system")
    request = {"paths": ["a.h5ad", "b.zarr"], "obs_keys": ["cell_type"],
               "obsm_keys": ["X_pca"], "rows_per_batch": 256}
    with Client(uri) as client:
        batches = list(client.numpy_batches(request, transport=transport,
                                            shared_memory=shared))
    x, codes, pca = _expected(adatas)
    np.testing.assert_array_equal(np.vstack([b["X"] for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b["cell_type"] for b in batches]), codes)
    np.testing.assert_array_equal(np.vstack([b["obsm_X_pca"] for b in batches]), pca)
    assert any("warm after" in line for line in log), "\n".join(log)
    assert not [line for line in log if "Exception" in line or " ERROR " in line], "\n".join(log)
