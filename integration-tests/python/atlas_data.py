"""A large AnnData collection written fast with h5py in anndata's encoding, and the values it
holds computed from the same formulas (never read back through annflight).

Every store is an .h5ad of ``rows_per_store`` rows: X is CSR float32 over ``n_vars`` genes,
obs has a string index and a categorical ``cell_type``. Values are a function of the row's
global position g (the store's first row + its local row), so any row of the collection can be
checked without keeping the collection in memory:

- row g holds g % 3 stored values, at genes (g + 3 j) % n_vars with value (g % 1000) + j + 1,
  j = 0, 1, ...;
- cell_type is category (7 g + g // 1000) % N_TYPES, missing when g % 997 == 0;
- the obs index is "c" and g in 9 digits ("c000000042"), fixed-length strings (which anndata
  reads as it reads variable-length ones, and h5py writes 20x faster).

Only the first ``distinct`` stores (all by default) are written; store s is a hard link to store s % distinct
(an atlas of copies, reusing disk space and write time): ``global_row`` maps a collection row
to the row g that generated it.
"""
import os
from pathlib import Path
from typing import List

import h5py
import numpy as np

N_TYPES = 20
CATEGORIES = [f"type_{i:02d}" for i in range(N_TYPES)]
OBS_KEY = "cell_type"


class Atlas:
    def __init__(self, directory: Path, n_stores: int, rows_per_store: int, n_vars: int,
                 distinct: int = 0):
        assert n_vars >= 4, "two values a row need distinct genes g and g + 3"
        self.directory = Path(directory)
        self.n_stores = n_stores
        self.rows_per_store = rows_per_store
        self.n_vars = n_vars
        self.distinct = min(distinct or n_stores, n_stores)
        self.names = [f"atlas_{s:03d}.h5ad" for s in range(n_stores)]

    @property
    def n_obs(self) -> int:
        return self.n_stores * self.rows_per_store

    @property
    def paths(self) -> List[Path]:
        return [self.directory / n for n in self.names]

    def write(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        for s, path in enumerate(self.paths):
            if path.exists():
                path.unlink()
            if s < self.distinct:
                write_store(path, s * self.rows_per_store, self.rows_per_store, self.n_vars)
            else:
                try:
                    os.link(self.paths[s % self.distinct], path)
                except OSError:  # another file system: a copy does the same
                    import shutil
                    shutil.copyfile(self.paths[s % self.distinct], path)

    def remove(self):
        for p in self.paths:
            if p.exists():
                p.unlink()

    def global_row(self, positions: np.ndarray) -> np.ndarray:
        """The generating row g of collection rows."""
        positions = np.asarray(positions, dtype=np.int64)
        span = self.distinct * self.rows_per_store
        return positions % span

    def dense(self, positions) -> np.ndarray:
        """X of the collection rows at `positions`, dense float32 (n, n_vars)."""
        g = self.global_row(positions)
        out = np.zeros((len(g), self.n_vars), dtype=np.float32)
        for j in range(2):
            has = (g % 3) > j
            rows = np.nonzero(has)[0]
            out[rows, (g[has] + 3 * j) % self.n_vars] = (g[has] % 1000) + j + 1
        return out

    def codes(self, positions) -> np.ndarray:
        """cell_type codes (positions in CATEGORIES, -1 missing) of collection rows."""
        g = self.global_row(positions)
        c = (7 * g + g // 1000) % N_TYPES
        c[g % 997 == 0] = -1
        return c

    def labels(self, positions) -> np.ndarray:
        """cell_type as numpy's astype(str) writes it ("nan" for missing)."""
        names = np.array(CATEGORIES + ["nan"], dtype=object)
        c = self.codes(positions)
        return names[np.where(c < 0, N_TYPES, c)]


def _str_dtype():
    return h5py.string_dtype(encoding="utf-8")


def _attrs(node, encoding_type: str, version: str = "0.2.0"):
    node.attrs["encoding-type"] = encoding_type
    node.attrs["encoding-version"] = version


def _names(g: np.ndarray) -> np.ndarray:
    """"c" + g in 9 digits as fixed-length bytes, built without a Python string a row."""
    chars = np.empty((len(g), 10), dtype=np.uint8)
    chars[:, 0] = ord("c")
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    chars[:, 1:] = (g[:, None] // powers % 10).astype(np.uint8) + ord("0")
    return chars.view("S10").ravel()


def write_store(path: Path, first: int, n: int, n_vars: int):
    """One store: rows first .. first + n of the atlas."""
    g = np.arange(first, first + n, dtype=np.int64)
    counts = g % 3
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    row_of = np.repeat(np.arange(n, dtype=np.int64), counts)
    j = np.arange(nnz, dtype=np.int64) - indptr[:-1][row_of]
    gr = g[row_of]
    indices = ((gr + 3 * j) % n_vars).astype(np.int32)
    data = ((gr % 1000) + j + 1).astype(np.float32)
    codes = ((7 * g + g // 1000) % N_TYPES).astype(np.int8)
    codes[g % 997 == 0] = -1
    with h5py.File(path, "w") as f:
        _attrs(f, "anndata", "0.1.0")
        x = f.create_group("X")
        _attrs(x, "csr_matrix", "0.1.0")
        x.attrs["shape"] = np.array([n, n_vars], dtype=np.int64)
        x.create_dataset("data", data=data)
        x.create_dataset("indices", data=indices)
        x.create_dataset("indptr", data=indptr)
        obs = f.create_group("obs")
        _attrs(obs, "dataframe")
        obs.attrs["_index"] = "_index"
        obs.attrs.create("column-order", [OBS_KEY], dtype=_str_dtype())
        index = obs.create_dataset("_index", data=_names(g))
        _attrs(index, "string-array")
        cat = obs.create_group(OBS_KEY)
        _attrs(cat, "categorical")
        cat.attrs["ordered"] = False
        _attrs(cat.create_dataset("codes", data=codes), "array")
        cats = cat.create_dataset("categories", data=np.array(CATEGORIES, dtype=object),
                                  dtype=_str_dtype())
        _attrs(cats, "string-array")
        var = f.create_group("var")
        _attrs(var, "dataframe")
        var.attrs["_index"] = "_index"
        var.attrs["column-order"] = np.array([], dtype=np.float64)  # as anndata writes none
        vi = var.create_dataset("_index", data=np.array([f"g{i}" for i in range(n_vars)],
                                                       dtype=object), dtype=_str_dtype())
        _attrs(vi, "string-array")
        for name in ("layers", "obsm", "obsp", "varm", "varp", "uns"):
            _attrs(f.create_group(name), "dict", "0.1.0")
