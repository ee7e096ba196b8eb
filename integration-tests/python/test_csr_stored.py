"""CSR rows as stored on disk, read straight into the server's outgoing buffers, and the
stores that cannot be read so (their rows take the general path): column indices unsorted
within rows (sorted on the way out), int64 indices with big-endian values, a Zarr store, and a
store without X (null rows). Expected values come from the scipy matrices the stores are
written from; batches are shuffled, projected onto genes, and read as torch tensors."""
import anndata
import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse

from annflight.torch import AnnflightDataset
from conftest import start_jar, stop_jar

GENES = 500
N_OBS = {"unsorted.h5ad": 90, "int64_be.h5ad": 70, "sorted.zarr": 60, "no_x.h5ad": 40}


def _matrix(n_obs: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    x = sparse.random(n_obs, GENES, density=0.05, format="csr", random_state=rng,
                      dtype=np.float32)
    x.data[:] = rng.integers(1, 100, size=x.nnz)
    x[3] = 0  # an empty row
    x.eliminate_zeros()
    x.sort_indices()
    return x


def _frame(name: str, n_obs: int):
    return (pd.DataFrame(index=[f"{name}_{i}" for i in range(n_obs)]),
            pd.DataFrame(index=[f"g{j}" for j in range(GENES)]))


def _rewrite_x(path, x: sparse.csr_matrix, indices: np.ndarray, data: np.ndarray):
    """X's arrays replaced, as h5py writes them (contiguous), with the given dtypes."""
    with h5py.File(path, "r+") as f:
        g = f["X"]
        for name in ("data", "indices", "indptr"):
            del g[name]
        g.create_dataset("data", data=data)
        g.create_dataset("indices", data=indices)
        g.create_dataset("indptr", data=x.indptr.astype(np.int64))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("csr_stored")
    expected = {}
    for seed, (name, n_obs) in enumerate(N_OBS.items()):
        obs, var = _frame(name, n_obs)
        if name == "no_x.h5ad":
            anndata.AnnData(obs=obs, var=var).write_h5ad(root / name)
            expected[name] = None
            continue
        x = _matrix(n_obs, seed)
        expected[name] = x.toarray()
        a = anndata.AnnData(X=x, obs=obs, var=var)
        if name.endswith(".zarr"):
            a.write_zarr(root / name)
            continue
        a.write_h5ad(root / name)
        if name == "unsorted.h5ad":
            # Each row's entries reversed: the same matrix, columns descending on disk.
            order = np.concatenate([np.arange(x.indptr[r + 1] - 1, x.indptr[r] - 1, -1)
                                    for r in range(n_obs)]).astype(np.int64)
            _rewrite_x(root / name, x, x.indices[order].astype("<i4"),
                       x.data[order].astype("<f4"))
            with h5py.File(root / name, "r") as f:
                assert np.any(np.diff(f["X/indices"][:5]) < 0)
        else:
            _rewrite_x(root / name, x, x.indices.astype("<i8"), x.data.astype(">f4"))
    proc, uri, _ = start_jar(["--data-root", str(root)])
    try:
        yield uri, expected
    finally:
        stop_jar(proc)


def _want(expected: dict) -> np.ndarray:
    """The collection's X: rows of the store without X are NaN."""
    return np.vstack([x if x is not None else np.full((N_OBS[n], GENES), np.nan, np.float32)
                      for n, x in expected.items()])


def _read(uri, request, **kw):
    rows, xs = [], []
    for batch in AnnflightDataset(request, uri=uri, batch_size=64, **kw):
        rows.append(batch["_row"].numpy())
        xs.append(batch["X"])
    return np.concatenate(rows), xs


@pytest.mark.parametrize("sampler", [None, {"kind": "shuffle"}, {"kind": "block_shuffle"}])
def test_csr_tensors_equal_scipy_with_columns_ascending(stores, sampler):
    uri, expected = stores
    names = [n for n in N_OBS if expected[n] is not None]
    rows, xs = _read(uri, {"paths": names, "matrix_format": "csr"}, sampler=sampler)
    assert sorted(rows) == list(range(sum(N_OBS[n] for n in names)))
    for x in xs:
        assert x.layout == torch.sparse_csr and x.col_indices().dtype == torch.int64
        crow, col = x.crow_indices().numpy(), x.col_indices().numpy()
        for r in range(len(crow) - 1):
            assert np.all(np.diff(col[crow[r]:crow[r + 1]]) > 0), "columns ascend in each row"
    got = np.vstack([x.to_dense().numpy() for x in xs])
    want = np.vstack([expected[n] for n in names])
    np.testing.assert_array_equal(got, want[rows])


def test_dense_tensors_with_a_store_without_x(stores):
    uri, expected = stores
    rows, xs = _read(uri, {"paths": list(N_OBS)}, sampler={"kind": "shuffle"})
    got = np.vstack([x.numpy() for x in xs])
    np.testing.assert_array_equal(got, _want(expected)[rows])


def test_projected_onto_reordered_genes(stores):
    uri, expected = stores
    genes = [f"g{j}" for j in (499, 3, 250, 0, 17, 400)]
    cols = [int(g[1:]) for g in genes]
    for fmt in ("dense", "csr"):
        rows, xs = _read(uri, {"paths": list(N_OBS), "var_names": genes, "matrix_format": fmt},
                         sampler={"kind": "block_shuffle"})
        got = np.vstack([x.to_dense().numpy() if fmt == "csr" else x.numpy() for x in xs])
        want = _want(expected)[:, cols][rows]
        if fmt == "csr":  # a store without X has empty rows in a sparse tensor
            want = np.nan_to_num(want, nan=0.0)
        np.testing.assert_array_equal(got, want)
