"""matrix_format "csr" and var_names through real clients: pyarrow to scipy CSR per batch,
torch sparse CSR tensors from the package's dataset, Polars and DuckDB over the CSR column, and
a fixed gene vocabulary; every value compared with what anndata reads (expected.py, pandas)."""
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import torch
from torch.utils.data import DataLoader

import annflight
from annflight.arrow import csr_matrix, csr_parts
from annflight.torch import AnnflightDataset
from conftest import FIX_OBS_KEYS, FIX_PATHS
from expected import Expected, _dense, read

PATHS = ["dense.h5ad", "csr.zarr", "csc.h5ad"]
EXP = Expected(PATHS, ["cell_type"])
CSR = {"paths": PATHS, "obs_keys": ["cell_type"], "matrix_format": "csr"}


@pytest.fixture(scope="module")
def af(server):
    with annflight.connect(server.uri) as c:
        yield c


def test_the_csr_column_is_a_list_of_index_value_structs(af):
    field = af.schema(CSR).field("X")
    assert field.type == pa.list_(pa.field("item", pa.struct(
        [pa.field("index", pa.int32(), nullable=False),
         pa.field("value", pa.float32(), nullable=False)]), nullable=False))
    assert field.metadata[b"annflight.n_cols"] == str(EXP.shape[1]).encode()


@pytest.mark.parametrize("compression", ["none", "lz4"])
def test_scipy_csr_per_batch_equals_anndata(af, compression):
    rows = []
    for batch in af.batches({**CSR, "compression": compression, "rows_per_batch": 17}):
        m = csr_matrix(batch.column("X"), batch.schema.field("X"))
        assert m.has_sorted_indices
        rows.append(m.toarray())
    np.testing.assert_array_equal(np.vstack(rows), EXP.X())


def test_csr_carries_only_the_non_zeros(af):
    table = af.read(CSR, progress=False)
    entries = pa.concat_arrays([c.values for c in table.column("X").chunks])
    assert len(entries) == int(np.count_nonzero(EXP.X()))


@pytest.mark.parametrize("workers,index_dtype", [(0, torch.int64), (2, torch.int64),
                                                  (0, torch.int32), (2, torch.int32)])
def test_torch_dataset_yields_sparse_csr_tensors(server, workers, index_dtype):
    ds = AnnflightDataset({**CSR, "unknown_label": None}, uri=server.uri, batch_size=8,
                          index_dtype=index_dtype)
    extra = {"multiprocessing_context": "spawn"} if workers else {}
    # Every batch is kept until the end: a worker's shared memory is not reused under it.
    batches = list(DataLoader(ds, batch_size=None, num_workers=workers, **extra))
    seen = {}
    for batch in batches:
        x = batch["X"]
        assert x.layout == torch.sparse_csr and x.shape[1] == EXP.shape[1]
        assert x.crow_indices().dtype == x.col_indices().dtype == index_dtype
        for r, row in zip(batch["_row"].tolist(), x.to_dense().numpy()):
            seen[r] = row
    assert sorted(seen) == list(range(EXP.n_obs))
    np.testing.assert_array_equal(np.stack([seen[r] for r in range(EXP.n_obs)]), EXP.X())


def test_polars_and_duckdb_over_the_csr_column(af):
    want = EXP.X().sum(axis=1)
    frame = af.to_polars(CSR)
    sums = frame.select(pl.col("X").list.eval(pl.element().struct.field("value")).list.sum())
    np.testing.assert_allclose(sums.to_series().to_numpy(), want, rtol=1e-6)
    rel = af.to_duckdb(CSR)
    total = rel.query("r", "SELECT sum(e.value) FROM (SELECT unnest(X) AS e FROM r)").fetchone()[0]
    assert total == pytest.approx(float(want.sum()), rel=1e-6)


def vocabulary_frame(names, key=None, paths=PATHS):
    """Each store's X reindexed onto `names` (0 where a store lacks a name), stacked."""
    blocks = []
    for p in paths:
        a = read(p)
        columns = [str(v) for v in (a.var[key] if key else a.var_names)]
        frame = pd.DataFrame(_dense(a.X), columns=columns)
        blocks.append(frame.reindex(columns=names, fill_value=0).to_numpy(np.float32))
    return np.vstack(blocks)


@pytest.mark.parametrize("matrix_format", ["dense", "csr"])
def test_var_names_select_and_order_the_columns(af, matrix_format):
    names = ["G010", "G003", "NOT_A_GENE", "G027", "G000"]
    request = {"paths": PATHS, "var_names": names, "matrix_format": matrix_format}
    table = af.read(request, progress=False)
    if matrix_format == "csr":
        got = csr_matrix(table.column("X"), table.schema.field("X")).toarray()
    else:
        got = np.vstack(table.column("X").to_numpy(zero_copy_only=False))
    np.testing.assert_array_equal(got, vocabulary_frame(names))
    assert af.describe(request)["var_names_unmatched"] == ["NOT_A_GENE"]
    assert af.var_joint(request) == names


def test_var_key_matches_a_var_column(af):
    names = ["SYM028", "SYM002"]
    request = {"paths": ["dense.zarr", "csr.h5ad"], "var_names": names, "var_key": "gene_symbol"}
    got = np.vstack(af.read(request, progress=False).column("X").to_numpy(zero_copy_only=False))
    np.testing.assert_array_equal(got, vocabulary_frame(names, "gene_symbol",
                                                        ["dense.zarr", "csr.h5ad"]))


def test_bad_vocabularies_are_refused_by_name(af):
    with pytest.raises(annflight.AnnflightError, match="twice"):
        af.shape({"paths": PATHS, "var_names": ["G001", "G001"]})
    with pytest.raises(annflight.AnnflightError, match="has no column"):
        af.shape({"paths": PATHS, "var_names": ["G001"], "var_key": "symbol"})
    with pytest.raises(annflight.AnnflightError, match="matrix_format"):
        af.shape({"paths": PATHS, "matrix_format": "coo"})


def test_rows_whose_stored_columns_are_unsorted_come_out_ascending(server, af):
    # scipy allows CSR rows with unsorted indices and anndata writes them as they are; the
    # server's bulk projection must notice and sort, projected or not.
    import anndata
    import h5py
    import scipy.sparse as sp
    rng = np.random.default_rng(3)
    dense = (rng.random((40, 30)) * (rng.random((40, 30)) < 0.3)).astype(np.float32)
    m = sp.csr_matrix(dense)
    for r in range(m.shape[0]):  # each row's entries reversed: the same matrix
        s, e = m.indptr[r], m.indptr[r + 1]
        m.indices[s:e] = m.indices[s:e][::-1].copy()
        m.data[s:e] = m.data[s:e][::-1].copy()
    m.has_sorted_indices = False
    var = [f"g{j}" for j in range(30)]
    anndata.AnnData(X=m, obs=pd.DataFrame(index=[f"c{i}" for i in range(40)]),
                    var=pd.DataFrame(index=var)).write_h5ad(server.root / "unsorted.h5ad")
    with h5py.File(server.root / "unsorted.h5ad", "r") as f:
        stored = f["X/indices"][:]
        assert (np.diff(stored[f["X/indptr"][0]:f["X/indptr"][1]]) < 0).any()
    picked = list(range(0, 30, 3))
    base = {"paths": ["unsorted.h5ad"], "obs_keys": [], "obsm_keys": [], "matrix_format": "csr"}
    for request, want in ((base, dense),
                          ({**base, "var_names": [var[j] for j in picked]}, dense[:, picked])):
        table = af.read(request)
        column = table.column("X").combine_chunks()
        indptr, indices, _ = csr_parts(column)
        for r in range(len(column)):
            assert (np.diff(indices[indptr[r]:indptr[r + 1]]) > 0).all(), r
        np.testing.assert_array_equal(csr_matrix(column, table.schema.field("X")).toarray(), want)


def test_a_projection_read_again_equals_the_store_in_every_order(server, af):
    # var_names keeping 10 % of a CSR store's genes: the server projects groups of 256 rows
    # and keeps them, so the second read of each kind comes from its cache; a few scattered
    # rows (an index ticket) are projected alone. Every read equals anndata's columns by name.
    import anndata
    import scipy.sparse as sp
    rng = np.random.default_rng(11)
    n, m = 700, 200
    dense = (rng.integers(1, 50, (n, m)) * (rng.random((n, m)) < 0.1)).astype(np.float32)
    var = [f"v{j}" for j in range(m)]
    anndata.AnnData(X=sp.csr_matrix(dense), obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]),
                    var=pd.DataFrame(index=var)).write_h5ad(server.root / "wide_proj.h5ad")
    picked = list(range(3, m, 10))
    names = [var[j] for j in picked]
    want = dense[:, picked]
    request = {"paths": ["wide_proj.h5ad"], "obs_keys": [], "obsm_keys": [],
               "matrix_format": "csr", "var_names": names}
    shuffled = {**request, "return_index": True,
                "sampler": {"kind": "block_shuffle", "seed": 5, "epoch": 0}}
    for _ in range(2):
        table = af.read(request, progress=False)
        np.testing.assert_array_equal(csr_matrix(table.column("X"),
                                                 table.schema.field("X")).toarray(), want)
        table = af.read(shuffled, progress=False)
        got = csr_matrix(table.column("X"), table.schema.field("X")).toarray()
        rows = table.column("_row").to_numpy()
        assert sorted(rows.tolist()) == list(range(n)) and list(rows) != list(range(n))
        np.testing.assert_array_equal(got, want[rows])
        scattered = [699, 3, 3, 400, 128]
        t = af.do_get({"request": request, "indices": scattered})
        np.testing.assert_array_equal(csr_matrix(t.column("X"), t.schema.field("X")).toarray(),
                                      want[scattered])


def test_an_index_dtype_other_than_int32_or_int64_is_refused(server):
    with pytest.raises(ValueError, match="index_dtype must be torch.int64 or torch.int32"):
        AnnflightDataset(CSR, uri=server.uri, index_dtype=torch.int16)


def test_int32_indices_refuse_a_minibatch_they_cannot_address():
    from annflight import torch as af_torch

    class Huge:  # the column indices of 2**31 stored values, by their count alone
        def __len__(self):
            return 2 ** 31

    piece = [("X", "csr", (np.zeros(2, np.int32), Huge(), np.zeros(0, np.float32), 10))]
    with pytest.raises(ValueError, match="2147483648 stored values, more than int32"):
        af_torch._layout([piece], 1, np.dtype(np.int32))
    assert af_torch._layout([piece], 1, np.dtype(np.int64))[1][2] == (2 ** 31,)
