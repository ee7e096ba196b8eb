"""Polars reads the Flight stream with pl.from_arrow: X as an Array column, labels as
Categorical; a group-by checked against pandas over what anndata reads; a ZSTD-compressed stream
gives the same frame."""
import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.flight as fl

from conftest import FIX_OBS_KEYS, FIX_OBSM_KEYS, FIX_PATHS, READ_OPTIONS
from expected import Expected

FIX = Expected(FIX_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS)


def frame(client, compression: str = None) -> pl.DataFrame:
    descriptor = (fl.FlightDescriptor.for_path("fix") if compression is None else
                  fl.FlightDescriptor.for_command(json.dumps(
                      {"collection": "fix", "compression": compression, "rows_per_batch": 16})))
    info = client.get_flight_info(descriptor, READ_OPTIONS)
    table = pa.concat_tables(client.do_get(ep.ticket, READ_OPTIONS).read_all()
                             for ep in info.endpoints)
    return pl.from_arrow(table)


def test_types_array_and_categorical(client):
    df = frame(client)
    assert df.height == FIX.n_obs
    assert df.schema["X"] == pl.Array(pl.Float32, len(FIX.var_joint))
    assert df.schema["cell_type"] == pl.Categorical
    assert df.schema["obsm_X_pca"] == pl.Array(pl.Float32, FIX.obsm("X_pca")[0].shape[0])
    np.testing.assert_array_equal(df["X"].to_numpy(), FIX.X())
    assert df["cell_type"].to_list() == FIX.labels("cell_type")
    assert df["_store_idx"].to_list() == FIX.store_idx().tolist()


def test_group_by_cell_type_and_tissue(client):
    gene = FIX.var_joint.get_loc("G003")
    got = (frame(client)
           .filter(pl.col("cell_type").is_not_null())
           .group_by("cell_type", "tissue")
           .agg(pl.len().alias("n"), pl.col("X").arr.get(gene).cast(pl.Float64).sum().alias("g"))
           .with_columns(pl.col("cell_type").cast(pl.String), pl.col("tissue").cast(pl.String))
           .sort("cell_type", "tissue", nulls_last=True))
    pdf = pd.DataFrame({"cell_type": FIX.labels("cell_type"), "tissue": FIX.labels("tissue"),
                        "g": FIX.X()[:, gene].astype(np.float64)})
    want = (pdf[pdf["cell_type"].notna()]
            .groupby(["cell_type", "tissue"], dropna=False)
            .agg(n=("g", "size"), g=("g", "sum")).reset_index()
            .sort_values(["cell_type", "tissue"], na_position="last"))
    assert got["cell_type"].to_list() == want["cell_type"].tolist()
    assert got["tissue"].to_list() == [None if pd.isna(t) else t for t in want["tissue"]]
    assert got["n"].to_list() == want["n"].tolist()
    np.testing.assert_allclose(got["g"].to_numpy(), want["g"].to_numpy(), rtol=1e-12)


def test_zstd_compressed_stream_gives_the_same_frame(client):
    plain, packed = frame(client), frame(client, compression="zstd")
    assert packed.equals(plain)
    assert packed["cell_type"].to_list() == FIX.labels("cell_type")
    np.testing.assert_array_equal(packed["X"].to_numpy(), FIX.X())
