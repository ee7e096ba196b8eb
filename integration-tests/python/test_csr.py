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
from annflight.arrow import csr_matrix
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


@pytest.mark.parametrize("workers", [0, 2])
def test_torch_dataset_yields_sparse_csr_tensors(server, workers):
    ds = AnnflightDataset(server.uri, {**CSR, "unknown_label": None}, batch_size=8)
    extra = {"multiprocessing_context": "spawn"} if workers else {}
    # Every batch is kept until the end: a worker's shared memory is not reused under it.
    batches = list(DataLoader(ds, batch_size=None, num_workers=workers, **extra))
    seen = {}
    for batch in batches:
        x = batch["X"]
        assert x.layout == torch.sparse_csr and x.shape[1] == EXP.shape[1]
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
