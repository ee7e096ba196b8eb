"""Synthetic AnnData stores for the benchmarks, written with the real anndata library.

One writer for every benchmark in this directory: reader_bench.py (X alone, CSR/dense/CSC) and
throughput_bench.py (a multi-file collection with a categorical obs column and an obsm matrix).
Data is generated in row chunks so that a 1,000,000-cell collection does not need the whole
matrix in memory more than once. Files are only written when missing (they are reused).
"""
from pathlib import Path

import time

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

CHUNK_ROWS = 50_000


def random_csr(n: int, m: int, density: float, rng: np.random.Generator) -> sp.csr_matrix:
    """n x m float32 CSR with about `density` non-zeros, values small integers (counts-like)."""
    parts = []
    for start in range(0, n, CHUNK_ROWS):
        rows = min(CHUNK_ROWS, n - start)
        mask = rng.random((rows, m), dtype=np.float32) < density
        r, c = np.nonzero(mask)
        del mask
        data = rng.integers(1, 100, size=r.size).astype(np.float32)
        parts.append(sp.csr_matrix((data, (r, c.astype(np.int32))), shape=(rows, m),
                                   dtype=np.float32))
    return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr", dtype=np.float32)


def skewed_categories(n: int, levels: int, rng: np.random.Generator) -> pd.Categorical:
    """A categorical with `levels` levels of Zipf-like frequencies (a few large cell types)."""
    names = [f"type_{k:02d}" for k in range(levels)]
    p = 1.0 / np.arange(1, levels + 1) ** 1.1
    codes = rng.choice(levels, size=n, p=p / p.sum())
    return pd.Categorical.from_codes(codes, categories=names)


def write_store(path: Path, X, obs: pd.DataFrame, var: pd.DataFrame, obsm=None,
                fmt: str = "h5ad"):
    """Writes one store with anndata: an .h5ad file or (fmt "zarr") a .zarr directory."""
    ad = anndata.AnnData(X=X, obs=obs, var=var, obsm=obsm, dtype=np.float32)
    if fmt == "zarr":
        ad.write_zarr(path)
    else:
        ad.write_h5ad(path)


def collection_paths(d: Path, n: int, m: int, files: int, density: float, layout: str,
                     fmt: str = "h5ad"):
    tag = f"{n}x{m}_d{density:g}_{files}f"
    return [d / f"coll_{layout}_{tag}_part{i}.{fmt}" for i in range(files)]


def write_collection(d: Path, n: int, m: int, files: int, density: float,
                     layouts=("csr", "dense"), levels: int = 30, pca: int = 50,
                     fmt: str = "h5ad", seed: int = 0):
    """A collection of `n` cells over `files` stores per layout, same values in every layout.

    Each store has X (CSR float32 or dense float32), obs `cell_type` (categorical, `levels`
    skewed levels) and obsm `X_pca` (`pca` float32 columns); all stores share the var index.
    Returns {layout: [paths]}.
    """
    d.mkdir(parents=True, exist_ok=True)
    out = {lay: collection_paths(d, n, m, files, density, lay, fmt) for lay in layouts}
    var = pd.DataFrame(index=[f"gene_{j}" for j in range(m)])
    bounds = np.linspace(0, n, files + 1).astype(int)
    for i in range(files):
        if all(out[lay][i].exists() for lay in layouts):
            continue
        rows = int(bounds[i + 1] - bounds[i])
        rng = np.random.default_rng(seed + i)
        X = random_csr(rows, m, density, rng)
        obs = pd.DataFrame({"cell_type": skewed_categories(rows, levels, rng)},
                           index=[f"f{i}_c{k}" for k in range(rows)])
        obsm = {"X_pca": rng.standard_normal((rows, pca), dtype=np.float32)}
        for lay in layouts:
            p = out[lay][i]
            if p.exists():
                continue
            tmp = p.with_name(p.name + ".partial")
            write_store(tmp, X if lay == "csr" else X.toarray(), obs, var, obsm, fmt)
            tmp.rename(p)
        del X
    return out


# ---------------------------------------------------------------- wide (wide_bench.py)

WIDE_GENES = 62_710  # Tahoe-100M's width
WIDE_LEVELS = 30
ROWS_PER_WRITE = 2_000


def _strings(group, name, values):
    ds = group.create_dataset(name, data=np.array(values, dtype=object),
                              dtype=h5py.string_dtype())
    ds.attrs["encoding-type"], ds.attrs["encoding-version"] = "string-array", "0.2.0"


def _distinct_columns(rng, k: int) -> np.ndarray:
    """k distinct genes, ascending (drawn with replacement until k are distinct: far faster
    than a choice without replacement over 62,710 genes)."""
    cols = np.unique(rng.integers(0, WIDE_GENES, size=k))
    while len(cols) < k:
        more = rng.integers(0, WIDE_GENES, size=k - len(cols))
        cols = np.unique(np.concatenate([cols, more]))
    return cols


def write_wide_store(path: Path, cells: int, seed: int, min_nnz: int, max_nnz: int):
    """One .h5ad in anndata's encoding, written in blocks of rows with h5py."""
    rng = np.random.default_rng(seed)
    nnz = rng.integers(min_nnz, max_nnz + 1, size=cells)
    indptr = np.concatenate([[0], np.cumsum(nnz)]).astype(np.int64)
    tmp = path.with_name(path.name + ".partial")
    with h5py.File(tmp, "w") as f:
        f.attrs["encoding-type"], f.attrs["encoding-version"] = "anndata", "0.1.0"
        x = f.create_group("X")
        x.attrs["encoding-type"], x.attrs["encoding-version"] = "csr_matrix", "0.1.0"
        x.attrs["shape"] = (cells, WIDE_GENES)
        data = x.create_dataset("data", shape=(int(indptr[-1]),), dtype=np.float32)
        indices = x.create_dataset("indices", shape=(int(indptr[-1]),), dtype=np.int32)
        x.create_dataset("indptr", data=indptr)
        for start in range(0, cells, ROWS_PER_WRITE):
            stop = min(cells, start + ROWS_PER_WRITE)
            cols = [_distinct_columns(rng, int(k)) for k in nnz[start:stop]]
            lo, hi = int(indptr[start]), int(indptr[stop])
            indices[lo:hi] = np.concatenate(cols).astype(np.int32)
            data[lo:hi] = rng.integers(1, 50, size=hi - lo).astype(np.float32)
        obs = f.create_group("obs")
        obs.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0",
                          "_index": "_index",
                          "column-order": np.array(["cell_type"], dtype=h5py.string_dtype())})
        _strings(obs, "_index", [f"s{seed}_c{i}" for i in range(cells)])
        cat = obs.create_group("cell_type")
        cat.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0",
                          "ordered": False})
        codes = rng.integers(0, WIDE_LEVELS, size=cells).astype(np.int8)
        cat.create_dataset("codes", data=codes)
        _strings(cat, "categories", [f"type_{k:02d}" for k in range(WIDE_LEVELS)])
        var = f.create_group("var")
        var.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0",
                          "_index": "_index", "column-order": np.array([], dtype=np.float64)})
        _strings(var, "_index", [f"gene_{j}" for j in range(WIDE_GENES)])
    tmp.rename(path)


def wide_collection(d: Path, cells: int, files: int, min_nnz: int, max_nnz: int):
    d.mkdir(parents=True, exist_ok=True)
    """`files` stores of `cells` cells each (written when missing); their paths."""
    paths = [d / f"wide_{cells}x{WIDE_GENES}_{min_nnz}-{max_nnz}_part{i}.h5ad"
             for i in range(files)]
    for i, p in enumerate(paths):
        if not p.exists():
            t0 = time.time()
            write_wide_store(p, cells, i, min_nnz, max_nnz)
            print(f"wrote {p} ({p.stat().st_size / 1e9:.1f} GB) in {time.time() - t0:.0f} s",
                  flush=True)
    return paths
