"""Stores replaced under the running server: by rename, and rewritten in place (same size, a
new modification time). Each pair of stores is equal in structure (shape, chunking, sparsity,
categories) and different in values, so a cache that outlived its file shows as old values.

For every layout (gzip- and LZF-chunked .h5ad, CSR and dense; contiguous .h5ad; Zarr v2; Zarr
v3 sharded): the next request returns the new store's values, and a stream leased on the old
store before the replacement returns only the old store's values to its end, or fails with an
error naming the file and saying what happened. Expected values come from anndata 0.8 (h5ad,
Zarr v2) and the Zarr v3 reference reader in tools/formats, never from the server.
"""
import importlib.util
import json
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pyarrow.flight as fl
import pytest
from scipy import sparse

from conftest import READ_OPTIONS
from expected import REPO
from test_faults import leak_lines, settled

sys.path.insert(0, str(REPO / "tools/formats"))
import zarr3  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "make_format_fixtures", REPO / "tools/fixtures/make_format_fixtures.py")
formats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(formats)

N_OBS, N_VARS = 1_200, 40
ROWS_PER_BATCH = 50  # 24 batches: the stream has many left when the store is replaced
CATEGORIES = ["a", "b", "c"]
LAYOUTS = ["h5ad_gzip_csr", "h5ad_gzip_dense", "h5ad_lzf_csr", "h5ad_lzf_dense",
           "h5ad_contiguous", "zarr_v2_csr", "zarr_v3_sharded"]
# What a stream stopped by a replacement says, besides the file's name.
CHANGED = re.compile(r"replaced|rewritten|truncated")


def source(seed: int):
    """Version `seed` of the store: the same sparsity pattern, other values and labels."""
    pattern = sparse.random(N_OBS, N_VARS, density=0.2, format="csr", random_state=99)
    rng = np.random.default_rng(seed)
    pattern.data = rng.integers(1, 10_000, pattern.nnz).astype(np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical.from_codes(
        rng.integers(0, len(CATEGORIES), N_OBS), categories=CATEGORIES)},
        index=[f"cell{i}" for i in range(N_OBS)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(N_VARS)])
    return pattern, obs, var


def write(layout: str, path: Path, seed: int):
    X, obs, var = source(seed)
    if layout == "zarr_v3_sharded":
        zarr3.write_group(path, {"encoding-type": "anndata", "encoding-version": "0.1.0"})
        formats.v3_frame(path / "obs", obs, shard=[8])
        formats.v3_frame(path / "var", var)
        # No zero inner chunk: both versions have the same files.
        zarr3.write_array(path / "X", X.toarray() + 0.5, chunks=[100, 20], shard=[200, 40],
                          attributes=formats.ARRAY, codecs=[formats.LE, formats.ZSTD])
        return
    ad = anndata.AnnData(X=X if layout.endswith("csr") else X.toarray(), obs=obs, var=var)
    if layout.startswith("zarr"):
        ad.write_zarr(str(path), chunks=(100, N_VARS))
        return
    compression = {"gzip": "gzip", "lzf": "lzf"}.get(layout.split("_")[1])
    ad.write_h5ad(path, compression=compression)


def expected(layout: str, path: Path):
    """X as dense float32 and the cell_type labels, read without the server."""
    if layout == "zarr_v3_sharded":
        ref = formats.anndata_ref.read_anndata(formats.anndata_ref.open_tree(path))
        return np.asarray(ref.X, dtype=np.float32), list(ref.obs.columns["cell_type"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad = anndata.read_zarr(str(path)) if path.suffix == ".zarr" else anndata.read_h5ad(path)
    X = ad.X.toarray() if sparse.issparse(ad.X) else np.asarray(ad.X)
    return X.astype(np.float32), list(ad.obs["cell_type"].astype(str))


def same_size(a: Path, b: Path):
    """Pads the shorter of two HDF5 files with zeros (past its end-of-file address, which HDF5
    ignores) so that a rewrite in place keeps the file's size."""
    size = max(a.stat().st_size, b.stat().st_size)
    for p in (a, b):
        with open(p, "r+b") as f:
            f.truncate(size)


def files(store: Path):
    return [store] if store.is_file() else sorted(p for p in store.rglob("*") if p.is_file())


def rewrite_in_place(new: Path, target: Path):
    """Writes `new`'s bytes into `target`'s files (same inodes, same sizes for .h5ad), root
    metadata first as zarr and anndata write, each with a modification time 2 s later than it
    had (so that coarse file system clocks cannot hide the rewrite)."""
    ordered = files(new)
    ordered.sort(key=lambda p: (p.parent != new, p))  # the root's metadata files first
    for src in ordered:
        dst = target / src.relative_to(new) if target.is_dir() else target
        before = dst.stat()
        with open(dst, "r+b") as f:
            data = src.read_bytes()
            f.write(data)
            f.truncate(len(data))
        os.utime(dst, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))


def replace_by_rename(new: Path, target: Path):
    if target.is_dir():
        # A directory cannot be renamed over a non-empty one: move the old one aside first.
        os.rename(target, target.with_name(target.name + ".old"))
    os.rename(new, target)


def ticket(name: str, rows_per_batch: int = ROWS_PER_BATCH) -> bytes:
    request = {"paths": [name], "obs_keys": ["cell_type"], "encode_labels": False,
               "rows_per_batch": rows_per_batch}
    return json.dumps({"request": request, "start": 0, "stop": N_OBS}).encode()


def values(chunk):
    col = chunk.column("X")
    X = col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)
    return X, [str(v) for v in chunk.column("cell_type").to_pylist()]


def read_all(client, name):
    table = client.do_get(fl.Ticket(ticket(name, N_OBS)), READ_OPTIONS).read_all()
    return values(table.combine_chunks().to_batches()[0])


def assert_rows(got, want, start):
    X, labels = got
    np.testing.assert_array_equal(X, want[0][start:start + len(X)])
    assert labels == want[1][start:start + len(X)]


@pytest.mark.parametrize("mode", ["rename", "in_place"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_replaced_store_serves_new_requests_the_new_values_and_old_streams_the_old(
        server, client, layout, mode):
    suffix = ".h5ad" if layout.startswith("h5ad") else ".zarr"
    name = f"replaced_{layout}_{mode}{suffix}"
    staging = server.root / f"staging_{layout}_{mode}"
    staging.mkdir()
    old, new = staging / f"old{suffix}", staging / f"new{suffix}"
    write(layout, old, 1)
    write(layout, new, 2)
    if suffix == ".h5ad":
        same_size(old, new)
    want_old, want_new = expected(layout, old), expected(layout, new)
    assert not np.array_equal(want_old[0], want_new[0]) and want_old[1] != want_new[1]
    target = server.root / name
    (shutil.copytree if old.is_dir() else shutil.copy)(old, target)

    # Read whole once: every cache holds the old store's chunks, labels and projections.
    assert_rows(read_all(client, name), want_old, 0)
    stream = client.do_get(fl.Ticket(ticket(name)), READ_OPTIONS)
    first = stream.read_chunk().data
    assert_rows(values(first), want_old, 0)
    sent = first.num_rows

    (replace_by_rename if mode == "rename" else rewrite_in_place)(new, target)

    # The next request plans on the new store and reads the new store.
    assert_rows(read_all(client, name), want_new, 0)

    # The stream leased on the old store: old values to its end, or an error naming the file.
    try:
        for _ in range(N_OBS // ROWS_PER_BATCH):  # bounded: at most every batch
            chunk = stream.read_chunk().data
            assert_rows(values(chunk), want_old, sent)
            sent += chunk.num_rows
    except StopIteration:
        assert sent == N_OBS
    except fl.FlightError as e:
        # A renamed .h5ad stays open under the stream: only Zarr (read by name) and rewritten
        # files may stop it.
        assert not (mode == "rename" and suffix == ".h5ad"), e
        message = str(e)
        assert name in message and CHANGED.search(message), message
        assert str(server.root) not in message
    else:
        assert sent == N_OBS
    # Once more, after the old store is released: still the new values.
    assert_rows(read_all(client, name), want_new, 0)
    assert settled(client)["allocated_bytes"] == 0
    assert leak_lines(server) == []
    assert server.process.poll() is None
