"""DuckDB queries the Flight stream with SQL (through a pyarrow RecordBatchReader over every
endpoint); results checked against pandas over what anndata reads; an LZ4-compressed stream
gives the same rows."""
import json
from collections import Counter

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as fl

from conftest import FIX_OBS_KEYS, FIX_OBSM_KEYS, FIX_PATHS, READ_OPTIONS
from expected import Expected

FIX = Expected(FIX_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS)


def stream(client, descriptor) -> pa.RecordBatchReader:
    """Every endpoint's batches, in order, as one reader DuckDB scans once."""
    info = client.get_flight_info(descriptor, READ_OPTIONS)

    def batches():
        for ep in info.endpoints:
            yield from client.do_get(ep.ticket, READ_OPTIONS).to_reader()

    return pa.RecordBatchReader.from_batches(info.schema, batches())


def expected_frame(exp: Expected) -> pd.DataFrame:
    frame = pd.DataFrame({key: exp.labels(key) for key in exp.obs_keys})
    frame["_store_idx"] = exp.store_idx()
    return frame


def test_count_rows_per_cell_type(client):
    reader = stream(client, fl.FlightDescriptor.for_path("fix"))
    got = duckdb.sql("SELECT cell_type, count(*) AS n FROM reader "
                     "GROUP BY cell_type ORDER BY cell_type NULLS LAST").fetchall()
    counts = expected_frame(FIX)["cell_type"].value_counts(dropna=False)
    want = sorted(((None if pd.isna(k) else k, int(v)) for k, v in counts.items()),
                  key=lambda kv: (kv[0] is None, kv[0] or ""))
    assert got == want
    assert sum(n for _, n in got) == FIX.n_obs


def test_filter_on_an_obs_column(client):
    reader = stream(client, fl.FlightDescriptor.for_path("fix"))
    got = duckdb.sql("SELECT _store_idx, count(*) FROM reader WHERE tissue = 'lung' "
                     "AND cell_type <> 'unknown' GROUP BY 1 ORDER BY 1").fetchall()
    frame = expected_frame(FIX)
    keep = frame[(frame["tissue"] == "lung") & frame["cell_type"].notna()
                 & (frame["cell_type"] != "unknown")]
    assert got == sorted(Counter(keep["_store_idx"].tolist()).items())


def test_pick_a_gene_out_of_X(client):
    gene = "G005"
    column = FIX.var_joint.get_loc(gene)  # 0-based; DuckDB arrays are 1-based
    var = json.loads(next(client.do_action(fl.Action(
        "var_joint", json.dumps({"collection": "fix"}).encode()))).body.to_pybytes())
    assert var.index(gene) == column
    reader = stream(client, fl.FlightDescriptor.for_path("fix"))
    got = duckdb.sql(f"SELECT X[{column + 1}] AS g, cell_type FROM reader "
                     "WHERE cell_type = 'B cell'").fetchnumpy()
    mask = np.array([label == "B cell" for label in FIX.labels("cell_type")])
    np.testing.assert_array_equal(got["g"], FIX.X()[mask, column])
    assert mask.sum() > 0


def test_mean_expression_per_store_with_a_command_request(client):
    req = {"paths": ["dense.h5ad", "csr.zarr"], "join": "outer"}
    exp = Expected(req["paths"], join="outer")
    reader = stream(client, fl.FlightDescriptor.for_command(json.dumps(req)))
    got = duckdb.sql("SELECT _store_idx, avg(list_sum(X::FLOAT[]::DOUBLE[])) FROM reader "
                     "GROUP BY 1 ORDER BY 1").fetchall()
    x = exp.X().astype(np.float64)
    want = [(i, x[exp.store_idx() == i].sum(axis=1).mean()) for i in range(2)]
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], rtol=1e-12)


def test_lz4_compressed_stream_gives_the_same_rows(client):
    query = "SELECT _store_idx, cell_type, tissue, X, obsm_X_pca FROM reader"
    results = {}
    for codec in ("none", "lz4"):
        reader = stream(client, fl.FlightDescriptor.for_command(json.dumps(
            {"collection": "fix", "compression": codec, "rows_per_batch": 16})))
        results[codec] = duckdb.sql(query).fetchall()
    assert results["lz4"] == results["none"]
    # DuckDB keeps the stream's row order (preserve_insertion_order): anndata's rows.
    assert [r[0] for r in results["lz4"]] == FIX.store_idx().tolist()
    assert [r[1] for r in results["lz4"]] == FIX.labels("cell_type")
    np.testing.assert_array_equal(np.array([r[3] for r in results["lz4"]]), FIX.X())
