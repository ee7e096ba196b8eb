"""Wide stores with the datasets' defaults: a 30,000-gene collection (a few hundred cells,
written here with anndata: a dense h5ad, and CSR stores of very different densities, h5ad and
Zarr) served from a --data-root alone. The torch dataset (0 and 2 workers), MappedCollection
and Ray read it with their defaults, dense and CSR, and every value is anndata's. Before
messages were sized by bytes, the torch dataset's defaults asked for batches of 4,096 such
rows (about 470 MiB dense) and were refused."""
import anndata
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from torch.utils.data import DataLoader

from annflight.mapped import MappedCollection
from annflight.torch import AnnflightDataset
from conftest import start_jar, stop_jar

GENES = 30_000
# (file, cells, non-zeros per row; None: dense)
STORES = [("dense.h5ad", 150, None), ("sparse.h5ad", 120, 30), ("denser.zarr", 130, 3_000)]


def _adata(n_obs: int, nnz, seed: int) -> anndata.AnnData:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_obs):
        k = nnz if nnz is not None else 400
        cols = np.sort(rng.choice(GENES, size=k, replace=False))
        rows.append((cols, rng.integers(1, 50, size=k).astype(np.float32)))
    indptr = np.concatenate([[0], np.cumsum([len(c) for c, _ in rows])])
    x = sparse.csr_matrix((np.concatenate([v for _, v in rows]),
                           np.concatenate([c for c, _ in rows]), indptr),
                          shape=(n_obs, GENES), dtype=np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical(rng.choice(["B", "T", "NK"], n_obs))},
                       index=[f"s{seed}_c{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(GENES)])
    return anndata.AnnData(X=x.toarray() if nnz is None else x, obs=obs, var=var)


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    root = tmp_path_factory.mktemp("wide")
    adatas = []
    for seed, (name, n_obs, nnz) in enumerate(STORES):
        a = _adata(n_obs, nnz, seed)
        (a.write_zarr if name.endswith(".zarr") else a.write_h5ad)(root / name)
        adatas.append(a)
    proc, uri, _ = start_jar(["--data-root", str(root)])
    try:
        yield uri, adatas
    finally:
        stop_jar(proc)


def _expected_x(adatas):
    return np.vstack([a.X.toarray() if sparse.issparse(a.X) else np.asarray(a.X)
                      for a in adatas])


def _expected_codes(adatas):
    cats = sorted(set().union(*(a.obs["cell_type"].cat.categories for a in adatas)))
    return np.concatenate([[cats.index(v) for v in a.obs["cell_type"]] for a in adatas])


def _paths(csr_only=False):
    return [name for name, _, nnz in STORES if not (csr_only and nnz is None)]


def _dense(t: torch.Tensor) -> np.ndarray:
    return (t.to_dense() if t.layout == torch.sparse_csr else t).numpy()


@pytest.mark.parametrize("matrix_format", ["dense", "csr"])
@pytest.mark.parametrize("workers", [0, 2])
def test_torch_dataset_reads_wide_stores_with_its_defaults(wide, matrix_format, workers):
    uri, adatas = wide
    csr = matrix_format == "csr"
    request = {"paths": _paths(csr_only=csr), "obs_keys": ["cell_type"],
               "matrix_format": matrix_format}
    chosen = adatas[1:] if csr else adatas
    ds = AnnflightDataset(request, uri=uri)  # batch_size 256, every other default
    loader = DataLoader(ds, batch_size=None, num_workers=workers,
                        multiprocessing_context="spawn" if workers else None)
    xs, rows, codes = [], [], []
    for batch in loader:
        assert batch["X"].layout == (torch.sparse_csr if csr else torch.strided)
        assert batch["X"].shape[1] == GENES
        xs.append(_dense(batch["X"]))
        rows.append(batch["_row"].numpy())
        codes.append(batch["cell_type"].numpy())
    order = np.argsort(np.concatenate(rows))
    np.testing.assert_array_equal(np.concatenate(rows)[order],
                                  np.arange(sum(a.n_obs for a in chosen)))
    np.testing.assert_array_equal(np.vstack(xs)[order], _expected_x(chosen))
    np.testing.assert_array_equal(np.concatenate(codes)[order], _expected_codes(chosen))


def test_a_minibatch_spanning_messages_equals_anndata(wide):
    # Messages of 64 KiB hold a few dense rows: each minibatch is built from many of them.
    uri, adatas = wide
    ds = AnnflightDataset({"paths": _paths(), "bytes_per_batch": 1 << 16}, uri=uri, batch_size=100)
    batches = list(ds)
    assert [len(b["_row"]) for b in batches] == [100, 100, 100, 100]
    x = np.vstack([b["X"].numpy() for b in batches])
    np.testing.assert_array_equal(x, _expected_x(adatas))


def test_mapped_collection_reads_wide_stores_with_its_defaults(wide):
    uri, adatas = wide
    mc = MappedCollection(_paths(), obs_keys="cell_type", uri=uri)
    try:
        assert mc.shape == (400, GENES)
        # A whole epoch in large minibatches (the DataLoader's __getitems__), and single rows.
        indices = np.random.default_rng(0).permutation(400)
        items = mc.__getitems__(indices.tolist())
        x = np.stack([item["X"] for item in items])
        np.testing.assert_array_equal(x, _expected_x(adatas)[indices])
        assert [item["cell_type"] for item in items] == _expected_codes(adatas)[indices].tolist()
        np.testing.assert_array_equal(mc[399]["X"], _expected_x(adatas)[399])
    finally:
        mc.close()


def test_ray_reads_wide_stores_with_its_defaults(wide):
    ray = pytest.importorskip("ray")
    from annflight.ray import read_annflight
    uri, adatas = wide
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 2**20,
             log_to_driver=False, configure_logging=False)
    try:
        for request in ({"paths": _paths(), "return_index": True},
                        {"paths": _paths(csr_only=True), "return_index": True,
                         "matrix_format": "csr"}):
            csr = "matrix_format" in request
            chosen = adatas[1:] if csr else adatas
            rows = sorted(read_annflight(request, uri=uri).take_all(), key=lambda r: r["_row"])
            assert [r["_row"] for r in rows] == list(range(sum(a.n_obs for a in chosen)))
            want = _expected_x(chosen)
            for r, expected in zip(rows, want):
                if csr:  # a row's entries: {"index", "value"} structs
                    got = np.zeros(GENES, np.float32)
                    got[[e["index"] for e in r["X"]]] = [e["value"] for e in r["X"]]
                else:
                    got = r["X"]
                np.testing.assert_array_equal(got, expected)
    finally:
        ray.shutdown()
