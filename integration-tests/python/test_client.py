"""The annflight Python package (python/, installed into the test venv as a user installs it)
against the real server: every client method, values compared with anndata/pandas
(expected.py), errors as the package's exceptions carrying the server's message."""
import numpy as np
import pyarrow as pa
import pytest

import annflight
from arrow_values import assert_collection
from conftest import FIX_OBS_KEYS, FIX_OBSM_KEYS, FIX_PATHS
from expected import Expected

FIX = Expected(FIX_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS)
REQUEST = {"collection": "fix"}


@pytest.fixture(scope="module")
def af(server):
    with annflight.connect(server.uri, parallel=3) as c:
        yield c


def test_collections_schema_and_describe(af):
    assert sorted(af.collections()) == ["demo", "fix"]
    schema = af.schema(REQUEST)
    assert schema.names == ["_store_idx", "X"] + FIX_OBS_KEYS + ["obsm_" + k for k in FIX_OBSM_KEYS]
    d = af.describe(REQUEST)
    assert d["n_obs"] == FIX.n_obs
    assert [s["path"] for s in d["stores"]] == FIX_PATHS


def test_read_keeps_endpoint_order_and_equals_anndata(af):
    table = af.read(REQUEST, progress=False)
    assert af.info(REQUEST).total_records == table.num_rows == FIX.n_obs
    assert len(af.info(REQUEST).endpoints) > 3  # several endpoints, fetched 3 at a time
    assert_collection(table, FIX)


def test_batches_stream_the_same_rows(af):
    reader = af.batches(REQUEST)
    assert isinstance(reader, pa.RecordBatchReader)
    assert_collection(reader.read_all(), FIX)


def test_read_shows_a_progress_bar_when_asked(af, capsys):
    af.read(REQUEST, progress=True)
    assert "rows" in capsys.readouterr().err  # tqdm writes to stderr


def test_polars_and_duckdb(af):
    df = af.to_polars(REQUEST)
    assert df.height == FIX.n_obs
    assert df["cell_type"].to_list() == [None if c is None else FIX.dictionary("cell_type")[c]
                                         for c in FIX.codes("cell_type")]
    rel = af.to_duckdb(REQUEST)
    counts = dict(rel.aggregate("cell_type, count(*) AS n", "cell_type").fetchall())
    want = {}
    for c in FIX.codes("cell_type"):
        label = None if c is None else FIX.dictionary("cell_type")[c]
        want[label] = want.get(label, 0) + 1
    assert counts == want


def test_tickets_as_dicts(af):
    rows = af.do_get({"request": REQUEST, "indices": [3, 0, 3]})
    assert_collection(rows, FIX, select=[3, 0, 3])


def test_actions_return_python_values(af):
    assert af.shape(REQUEST) == tuple(FIX.shape)
    assert af.original_shapes(REQUEST) == [tuple(s) for s in FIX.original_shapes()]
    assert af.var_joint(REQUEST) == list(FIX.var_joint)
    assert af.get_merged_categories(REQUEST, "cell_type") == FIX.merged_categories("cell_type")
    assert list(af.get_merged_labels(REQUEST, "cell_type")) == FIX.merged_labels("cell_type")
    weights, categories = FIX.label_weights(["cell_type", "tissue"], scaler=2.0)
    got = af.get_label_weights(REQUEST, ["cell_type", "tissue"], scaler=2.0)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, weights)
    assert af.get_label_weights(REQUEST, "cell_type", return_categories=True) == \
        FIX.label_weights("cell_type")[1]
    assert isinstance(af.check_vars_sorted(REQUEST), bool)
    assert af.check_vars_non_aligned(REQUEST, list(FIX.var_joint)) == [
        i for i, v in enumerate(FIX.vars) if list(v) != list(FIX.var_joint)]
    status = af.server_status()
    assert set(status) == {"allocated_bytes", "peak_allocated_bytes", "streams_running",
                           "streams_draining"}


def test_errors_are_the_packages_exceptions_with_the_servers_message(af):
    with pytest.raises(annflight.InvalidRequest, match='unknown request key "bogus"') as e:
        af.read({**REQUEST, "bogus": 1})
    assert isinstance(e.value, ValueError)
    assert "gRPC" not in str(e.value)
    with pytest.raises(annflight.NotFound, match="nope"):
        af.shape({"collection": "nope"})
    with pytest.raises(annflight.InvalidRequest, match="sampler.kind"):
        af.info({**REQUEST, "sampler": {"kind": "random"}})
    with pytest.raises(TypeError):
        af.read("fix")
