"""The layouts of other tools and versions served end to end by the real jar: anndata <= 0.6
Zarr (obs, var and obsm as arrays of a structured dtype), compound frames indexed by `_index`,
and `describe` of a store without X. Expected values are zarr's and h5py's reading of the same
files, never the server's."""
import shutil

import h5py
import numpy as np
import pytest
import zarr

import annflight
from conftest import start_jar, stop_jar
from expected import REPO

FORMATS = REPO / "flight-server/src/test/resources/formats"
STORES = ["pre07.zarr", "pre07_index.h5ad", "mudata.h5mu"]


@pytest.fixture(scope="module")
def formats_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    for name in STORES:
        src = FORMATS / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    proc, uri, _ = start_jar(["--data-root", str(root)])
    try:
        with annflight.connect(uri) as client:
            yield client
    finally:
        stop_jar(proc)


def _text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def test_an_anndata_06_zarr_store_is_served_as_zarr_reads_it(formats_server):
    z = zarr.open_group(str(FORMATS / "pre07.zarr"), mode="r")
    obs, obsm = z["obs"][:], z["obsm"][:]
    kinds = _text(z["uns/kind_categories"][:])
    table = formats_server.read({"paths": ["pre07.zarr"], "obs_keys": ["kind", "donor", "n_genes",
                                 "is_doublet"], "obsm_keys": ["X_pca"], "encode_labels": False})
    assert table.num_rows == len(obs)
    assert table["kind"].to_pylist() == [kinds[c] for c in obs["kind"]]
    assert table["donor"].to_pylist() == _text(obs["donor"])
    assert table["n_genes"].to_pylist() == obs["n_genes"].tolist()
    assert table["is_doublet"].to_pylist() == obs["is_doublet"].tolist()
    np.testing.assert_array_equal(np.array(table["X"].to_pylist(), dtype=np.float32), z["X"][:])
    np.testing.assert_array_equal(np.array(table["obsm_X_pca"].to_pylist(), dtype=np.float32),
                                  obsm["X_pca"])
    d = formats_server.describe({"paths": ["pre07.zarr"]})
    assert d["stores"][0]["obs_columns"] == ["kind", "n_genes", "pct", "is_doublet", "donor"]
    assert d["n_vars"] == len(z["var"])


def test_a_compound_frame_indexed_by_underscore_index(formats_server):
    with h5py.File(FORMATS / "pre07_index.h5ad", "r") as f:
        obs, var, X = f["obs"][()], f["var"][()], f["X"][()]
        kinds = _text(f["uns/kind_categories"][()])
    table = formats_server.read({"paths": ["pre07_index.h5ad"], "obs_keys": ["kind", "depth"],
                                 "encode_labels": False, "return_index": True})
    assert table["kind"].to_pylist() == [kinds[c] for c in obs["kind"]]
    assert table["depth"].to_pylist() == obs["depth"].tolist()
    np.testing.assert_array_equal(np.array(table["X"].to_pylist(), dtype=np.float32), X)
    assert formats_server.describe({"paths": ["pre07_index.h5ad"]})["n_vars"] == len(var)


def test_describe_with_default_keys_describes_a_store_without_x(formats_server):
    with h5py.File(FORMATS / "mudata.h5mu", "r") as f:
        assert "X" not in f
        n_obs = len(f["obs/_index/values"])
    d = formats_server.describe({"paths": ["mudata.h5mu"]})
    assert d["stores"][0]["has_x"] is False
    assert d["n_obs"] == n_obs
    assert d["request"]["layers_keys"] == []
    assert "X" not in [c["name"] for c in d["columns"]]
