#!/usr/bin/python3
"""Seed corpora of the fuzz targets (docs/development/fuzzing.md), written into the Jazzer
inputs directories under flight-server/src/test/resources/:

- ZarrFuzzTestInputs: one input per array of the fixtures whose codecs differ (every v2
  compressor, v3 bytes/transpose/crc32c/blosc/gzip/zstd, sharding with the index at either
  end, vlen-utf8, fixed-width strings, structured dtypes), framed as ZarrFuzzTest reads it:
  byte 0 = 1 for v3, bytes 1-2 = metadata length (big-endian), metadata, chunk 0's bytes.
- H5adFuzzTestInputs: small .h5ad files written with h5py: vlen strings, LZF, gzip + shuffle,
  CSR, categorical, compound (anndata 0.6) frames, and the chunk indexes of HDF5's old (B-tree
  v1) and latest (fixed array, extensible array, B-tree v2) file formats.
- RequestFuzzTestInputs: byte 0 = 0 (descriptor command), 1..9 (the actions in ActionKind
  order) or 10 (a ticket), then JSON.

    /usr/bin/python3 tools/fuzz/make_seeds.py

Deterministic (fixed values), except that HDF5's "latest" format records object times, so
the two seed-latest-* files differ in those bytes on a rerun. Inputs the fuzzer found and the
project fixed live beside the seeds as regression-* files; this script leaves them alone.
"""
import json
import shutil
import struct
import tempfile
from pathlib import Path

import h5py
import numcodecs
import numpy as np
import zarr

ROOT = Path(__file__).resolve().parents[2]
RES = ROOT / "flight-server/src/test/resources"
ZARR_OUT = RES / "io/annflight/fuzz/ZarrFuzzTestInputs/arrayMetadataAndChunks"
H5AD_OUT = RES / "io/annflight/fuzz/H5adFuzzTestInputs/openAndRead"
REQ_OUT = RES / "io/annflight/flight/RequestFuzzTestInputs/requestsActionsAndTickets"


def clean(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        if f.name.startswith("seed-"):
            f.unlink()


def first_key(meta: dict, v3: bool) -> str:
    rank = len(meta["shape"])
    if v3:
        enc = meta.get("chunk_key_encoding", {"name": "default"})
        prefixed = enc.get("name", "default") != "v2"
        sep = enc.get("configuration", {}).get("separator", "/" if prefixed else ".")
    else:
        prefixed, sep = False, meta.get("dimension_separator", ".")
    if rank == 0:
        return "c" if prefixed else "0"
    return ("c" + sep if prefixed else "") + sep.join("0" * rank)


def zarr_seed(array_dir: Path, name: str):
    v3 = (array_dir / "zarr.json").exists()
    meta_bytes = (array_dir / ("zarr.json" if v3 else ".zarray")).read_bytes()
    meta = json.loads(meta_bytes)
    chunk_file = array_dir / first_key(meta, v3)
    chunk = chunk_file.read_bytes() if chunk_file.exists() else b""
    data = bytes([1 if v3 else 0]) + struct.pack(">H", len(meta_bytes)) + meta_bytes + chunk
    (ZARR_OUT / f"seed-{name}").write_bytes(data)


def zarr_seeds():
    clean(ZARR_OUT)
    fx = RES / "fixtures"
    for layer in ["X_gzip", "X_zstd", "X_lz4", "X_zlib", "X_none", "X_blosc_zstd",
                  "X_blosc_zlib", "X_blosc_blosclz_bitshuffle", "X_blosc_lz4_noshuffle",
                  "X_missing_chunks", "u16", "i64"]:
        zarr_seed(fx / "dtypes.zarr/layers" / layer, f"v2-{layer}")
    zarr_seed(fx / "dtypes.zarr/obs/_index", "v2-vlen-utf8")
    zarr_seed(fx / "dtypes.zarr/obs/bool", "v2-bool")
    fm = RES / "formats"
    for element, name in [("v3.zarr/X/indices", "v3-uint16-zstd"),
                          ("v3.zarr/layers/csc64/data", "v3-gzip-crc32c"),
                          ("v3.zarr/layers/sparse_fill", "v3-blosc-dot-keys"),
                          ("v3.zarr/layers/big_endian", "v3-big-endian-v2-keys"),
                          ("v3.zarr/obsm/X_pca", "v3-transpose"),
                          ("v3.zarr/obs/_index", "v3-vlen-utf8"),
                          ("v3_sharded.zarr/X", "v3-sharded"),
                          ("v3_sharded.zarr/layers/index_at_start", "v3-shard-index-at-start"),
                          ("v3_sharded.zarr/obs/_index", "v3-sharded-strings")]:
        zarr_seed(fm / element, name)
    # Fixed-width strings and structured records (anndata <= 0.6 frames), written by zarr 2.
    with tempfile.TemporaryDirectory() as tmp:
        g = zarr.open_group(str(Path(tmp) / "s.zarr"), mode="w")
        g.array("fixed_bytes", np.array([b"a", b"bc", b"def"], dtype="S3"), chunks=(4,))
        g.array("fixed_unicode", np.array(["x", "\u00e9t\u00e9", "\u4e2d"], dtype="<U3"),
                chunks=(4,), compressor=numcodecs.Zstd(1))
        rec = np.zeros(4, dtype=[("index", "S4"), ("n", "<i8"), ("f", "<f4"), ("b", "?"),
                                 ("u", "<U2")])
        rec["index"] = [b"c0", b"c1", b"c2", b"c3"]
        rec["n"] = [1, 2, 3, 4]
        rec["f"] = [0.5, 1.5, 2.5, 3.5]
        rec["b"] = [True, False, True, False]
        rec["u"] = ["a", "b", "c", "d"]
        g.array("records", rec, chunks=(3,))
        for k in ("fixed_bytes", "fixed_unicode", "records"):
            zarr_seed(Path(tmp) / "s.zarr" / k, f"v2-{k}")


def h5_frame(g, key, index, columns, **opts):
    f = g.create_group(key)
    f.attrs.update({"_index": "_index", "column-order": list(columns) or np.array([], "f8"),
                    "encoding-type": "dataframe", "encoding-version": "0.2.0"})
    f.create_dataset("_index", data=np.array(index, dtype=object), dtype=h5py.string_dtype(),
                     **opts).attrs.update({"encoding-type": "string-array",
                                           "encoding-version": "0.2.0"})
    for c, v in columns.items():
        if isinstance(v, tuple):  # categorical: (codes, categories)
            cg = f.create_group(c)
            cg.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0",
                             "ordered": False})
            cg.create_dataset("codes", data=v[0])
            cg.create_dataset("categories", data=np.array(v[1], dtype=object),
                              dtype=h5py.string_dtype())
        else:
            f.create_dataset(c, data=v, **opts).attrs.update(
                {"encoding-type": "array", "encoding-version": "0.2.0"})


def h5ad_file(path: Path, libver: str, resizable: bool):
    n, m = 6, 4
    x = (np.arange(n * m, dtype=np.float32).reshape(n, m) % 5) / 2
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        h5_frame(f, "obs", [f"c{i}" for i in range(n)],
                 {"kind": (np.array([0, 1, -1, 1, 0, 1], "i1"), ["B", "T"]),
                  "n": np.arange(n, dtype=np.int64)},
                 chunks=(3,), compression="gzip")
        h5_frame(f, "var", [f"g{j}" for j in range(m)], {})
        maxshape = (None, m) if resizable else None
        f.create_dataset("X", data=x, chunks=(2, 2), compression="gzip", shuffle=True,
                         maxshape=maxshape).attrs.update(
            {"encoding-type": "array", "encoding-version": "0.2.0"})
        layers = f.create_group("layers")
        layers.create_dataset("lzf", data=x, chunks=(3, 2), compression="lzf",
                              maxshape=(None, None) if resizable else None)
        csr = layers.create_group("csr")
        csr.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0",
                          "shape": np.array([n, m])})
        nz = x != 0
        csr.create_dataset("data", data=x[nz], chunks=(4,), compression="gzip")
        csr.create_dataset("indices", data=np.nonzero(nz)[1].astype(np.int32), chunks=(4,),
                           compression="lzf")
        csr.create_dataset("indptr", data=np.concatenate([[0], np.cumsum(nz.sum(1))]))


def h5ad_compound(path: Path):
    n = 5
    obs = np.zeros(n, dtype=[("index", "S4"), ("kind", "i1"), ("n_genes", "<i8"),
                             ("pct", "<f4")])
    obs["index"] = [f"o{i}".encode() for i in range(n)]
    obs["kind"] = [0, 1, 1, 0, 2]
    obs["n_genes"] = np.arange(n) * 10
    obs["pct"] = np.linspace(0, 1, n)
    var = np.zeros(3, dtype=[("_index", "S4"), ("means", "<f4")])
    var["_index"] = [b"g0", b"g1", b"g2"]
    with h5py.File(path, "w") as f:
        f.create_dataset("X", data=np.eye(n, 3, dtype=np.float32), chunks=(2, 3),
                         compression="gzip")
        f.create_dataset("obs", data=obs, compression="gzip")
        f.create_dataset("var", data=var)
        f.create_dataset("uns/kind_categories", data=np.array([b"B", b"NK", b"T"]))


def h5ad_seeds():
    clean(H5AD_OUT)
    h5ad_file(H5AD_OUT / "seed-btree-v1", "earliest", False)
    h5ad_file(H5AD_OUT / "seed-latest-fixed-array", "latest", False)
    h5ad_file(H5AD_OUT / "seed-latest-extensible-array-btree-v2", "latest", True)
    h5ad_compound(H5AD_OUT / "seed-anndata06-compound")


REQUESTS = [
    (0, {"collection": "demo"}),
    (0, {"paths": ["dense.h5ad", "csr.zarr"], "join": "inner", "obs_keys": ["cell_type"],
         "encode_labels": True, "unknown_label": "unknown", "dtype": "float64"}),
    (0, {"paths": "dense.h5ad", "layers_keys": ["X", "counts"], "obsm_keys": ["X_pca"],
         "obs_filter": {"tissue": ["lung"], "n_genes": 5}, "rows_per_batch": 7,
         "compression": "zstd", "return_index": True}),
    (0, {"paths": ["csr.zarr"], "var_names": ["G000", "G001", "nope"], "matrix_format": "csr",
         "sampler": {"kind": "random", "seed": 3}, "split": {"fractions": [0.8, 0.2]}}),
    (1, {"collection": "demo"}),
    (2, {"paths": ["dense.h5ad", "csr.zarr"], "join": "outer"}),
    (3, {"collection": "demo"}),
    (4, {"collection": "demo", "args": {"ascending": False}}),
    (5, {"paths": "csr.zarr", "args": {"vars": ["G000", "G003"]}}),
    (6, {"collection": "demo", "obs_keys": "tissue", "args": {"label_key": "tissue"}}),
    (7, {"paths": "dense.h5ad", "obs_keys": ["cell_type"], "args": {"label_key": "cell_type"}}),
    (8, {"collection": "demo", "obs_keys": ["cell_type", "tissue"],
         "args": {"obs_keys": ["cell_type", "tissue"], "scaler": 2.5}}),
    (8, {"paths": "dense.h5ad", "obs_keys": "donor",
         "args": {"obs_keys": "donor", "return_categories": True}}),
    (9, {"collection": "demo", "layers_keys": []}),
    (10, {"request": {"paths": ["dense.h5ad"], "obs_keys": ["tissue"]}, "start": 0,
          "stop": 20}),
    (10, {"request": {"collection": "demo"}, "indices": [0, 5, 59, 70],
          "configuration": "0" * 64}),
]


def request_seeds():
    clean(REQ_OUT)
    for i, (kind, body) in enumerate(REQUESTS):
        (REQ_OUT / f"seed-{i:02d}").write_bytes(bytes([kind]) + json.dumps(body).encode())


if __name__ == "__main__":
    zarr_seeds()
    h5ad_seeds()
    request_seeds()
    for out in (ZARR_OUT, H5AD_OUT, REQ_OUT):
        files = list(out.iterdir())
        print(out.relative_to(ROOT), len(files), "files,", sum(f.stat().st_size for f in files),
              "bytes")
