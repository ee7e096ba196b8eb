"""Client.numpy_batches: dense numpy arrays whichever way the matrices travel (CSR rows
scattered on arrival, or dense rows), every value compared with what anndata reads
(expected.py); the scatter against scipy's own densifying; the reuse of memory only once the
caller has dropped a batch."""
import gc

import numpy as np
import pyarrow as pa
import pytest
from scipy import sparse

import annflight
import annflight.arrow as arrow
from annflight.arrow import DenseRing, batch_arrays, csr_dense, scatter_rows
from expected import Expected

SPARSE = ["csr.zarr", "csc.h5ad", "csr.h5ad"]
MIXED = ["dense.h5ad", "csr.zarr", "csc.h5ad"]


@pytest.fixture(scope="module")
def af(server):
    with annflight.connect(server.uri) as c:
        yield c


def _wire(af, monkeypatch):
    """The requests numpy_batches sends (recorded, then passed on)."""
    sent = []
    info = af.info

    def recording(request):
        sent.append(request)
        return info(request)

    monkeypatch.setattr(af, "info", recording)
    return sent


@pytest.mark.parametrize("paths", [SPARSE, MIXED], ids=["sparse", "mixed"])
@pytest.mark.parametrize("transport", ["auto", "csr", "dense"])
def test_numpy_batches_equal_anndata(af, monkeypatch, paths, transport):
    exp = Expected(paths, ["cell_type"], ["X_pca"])
    sent = _wire(af, monkeypatch)
    request = {"paths": paths, "obs_keys": ["cell_type"], "obsm_keys": ["X_pca"],
               "rows_per_batch": 7}
    # Every batch kept to the end: none may be overwritten by the ones after it.
    batches = list(af.numpy_batches(request, transport=transport))
    assert len(batches) > 4  # more than the ring keeps
    x = np.concatenate([b["X"] for b in batches])
    assert x.dtype == exp.X().dtype and x.shape == tuple(exp.shape)
    np.testing.assert_array_equal(x, exp.X())
    codes = np.concatenate([b["cell_type"] for b in batches])
    np.testing.assert_array_equal(codes, [-1 if c is None else c
                                          for c in exp.codes("cell_type")])
    pca = np.concatenate([b["obsm_X_pca"] for b in batches])
    want = exp.obsm("X_pca")
    for got, row in zip(pca, want):
        if row is None:
            assert np.isnan(got).all()
        else:
            np.testing.assert_array_equal(got, row)
    wire_csr = transport == "csr" or (transport == "auto" and paths is SPARSE)
    assert sent[0].get("matrix_format", "dense") == ("csr" if wire_csr else "dense")
    assert sent[0]["compression"] == ("none" if wire_csr else "lz4")


def test_numpy_batches_keep_the_requests_compression_and_refuse_csr(af, monkeypatch):
    sent = _wire(af, monkeypatch)
    request = {"paths": SPARSE, "compression": "zstd"}
    x = np.concatenate([b["X"] for b in af.numpy_batches(request)])
    np.testing.assert_array_equal(x, Expected(SPARSE).X())
    assert sent[0]["compression"] == "zstd" and sent[0]["matrix_format"] == "csr"
    with pytest.raises(ValueError, match="dense matrices"):
        next(af.numpy_batches({"paths": SPARSE, "matrix_format": "csr"}))
    with pytest.raises(ValueError, match="transport"):
        next(af.numpy_batches({"paths": SPARSE}, transport="coo"))


def test_the_wire_is_chosen_once_per_request(server, monkeypatch):
    """An epoch loop calls numpy_batches again each epoch: the stores' layouts are asked for
    once per request (a describe is a round trip), and each request gets its own answer."""
    with annflight.connect(server.uri) as c:
        described, sent = [], _wire(c, monkeypatch)
        describe = c.describe
        monkeypatch.setattr(c, "describe", lambda r: described.append(r) or describe(r))
        sparse = {"paths": SPARSE, "rows_per_batch": 50}
        mixed = {"paths": MIXED, "rows_per_batch": 50}
        for request in (sparse, sparse, mixed, sparse, mixed):
            np.testing.assert_array_equal(
                np.concatenate([b["X"] for b in c.numpy_batches(request)]),
                Expected(request["paths"], [], []).X())
        assert described == [sparse, mixed]
        assert [r.get("matrix_format") for r in sent] == ["csr", "csr", None, "csr", None]


@pytest.mark.parametrize("run_bytes", [8, 64, 1 << 20])
def test_scatter_rows_equals_scipy(monkeypatch, run_bytes):
    """Runs of one row, a few rows and the whole batch; rows without entries; a sliced
    column (offsets not starting at 0)."""
    monkeypatch.setattr(arrow, "_SCATTER_RUN_BYTES", run_bytes)
    rng = np.random.default_rng(3)
    m = sparse.random(40, 13, density=0.3, format="csr", dtype=np.float32, random_state=rng)
    m.data[m.indptr[5]:m.indptr[6]] = 0  # a row without entries
    m.eliminate_zeros()
    out = np.full(m.shape, 7, dtype=np.float32)  # stale values: zeroed by the scatter
    scatter_rows(out, m.indptr, m.indices, m.data, zero=True)
    np.testing.assert_array_equal(out, m.toarray())
    column = pa.ListArray.from_arrays(
        pa.array(m.indptr, pa.int32()),
        pa.StructArray.from_arrays([pa.array(m.indices, pa.int32()), pa.array(m.data)],
                                   ["index", "value"]))
    field = pa.field("X", column.type, metadata={b"annflight.n_cols": b"13"})
    np.testing.assert_array_equal(csr_dense("X", field, column.slice(9, 20)),
                                  m.toarray()[9:29])
    with pytest.raises(ValueError, match="C-contiguous"):
        scatter_rows(np.zeros((13, 40), np.float32).T, m.indptr, m.indices, m.data)


def test_rows_of_stores_without_the_matrix_are_nan():
    column = pa.array([[{"index": 1, "value": 2.0}], None, []],
                      pa.list_(pa.struct([("index", pa.int32()), ("value", pa.float32())])))
    batch = pa.RecordBatch.from_arrays(
        [column], schema=pa.schema([pa.field("X", column.type,
                                             metadata={b"annflight.n_cols": b"3"})]))
    x = batch_arrays(batch, DenseRing())["X"]
    np.testing.assert_array_equal(x, [[0, 2, 0], [np.nan] * 3, [0, 0, 0]])
    ints = pa.array([[{"index": 0, "value": 1}], None],
                    pa.list_(pa.struct([("index", pa.int32()), ("value", pa.int32())])))
    with pytest.raises(ValueError, match="integer"):
        csr_dense("X", pa.field("X", ints.type), ints)


def test_the_ring_reuses_memory_only_once_every_view_is_dropped():
    ring = DenseRing(max_slots=2)
    a = ring.empty((4, 8), np.float32)
    view = a[1:3, 2:]
    address = a.__array_interface__["data"][0]
    del a
    gc.collect()
    b = ring.empty((4, 8), np.float32)  # the view holds the first slot: a new one
    assert b.__array_interface__["data"][0] != address
    del view
    gc.collect()
    c = ring.empty((2, 8), np.float32)  # the first slot is free again
    assert c.__array_interface__["data"][0] == address
    # Both slots in use: a third is made and the oldest forgotten, never reused under c.
    d = ring.empty((4, 8), np.float32)
    assert len({x.__array_interface__["data"][0] for x in (b, c, d)}) == 3
    c[:] = 1
    del b, d
    gc.collect()
    for _ in range(3):
        ring.empty((4, 8), np.float32)[:] = 5
    assert (c == 1).all()
