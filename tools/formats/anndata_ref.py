"""An independent AnnData element decoder for stores anndata 0.8 cannot read (nullable strings,
Zarr v3, MuData modalities): it follows anndata's on-disk specification with h5py, zarr-python 2
and ``zarr3`` (this directory), never the server's code. Used by the compatibility check and by
the fixture scripts' ``--check``.

``open_tree(path)`` gives a tree over an .h5ad/.h5mu file, a Zarr v2 or a Zarr v3 directory;
``read_anndata(tree, root)`` decodes one AnnData group into a ``Reference``: obs columns (python
values, None where missing), X, layers and obsm arrays (dense numpy), shapes and names.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
from scipy import sparse

import zarr3


class _H5Tree:
    def __init__(self, path: Path):
        import h5py
        self.f = h5py.File(path, "r")
        self._h5py = h5py

    def kind(self, p):
        if p not in self.f and p != "":
            return None
        o = self.f[p] if p else self.f
        return "group" if isinstance(o, self._h5py.Group) else "array"

    def attrs(self, p):
        o = self.f[p] if p else self.f
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in o.attrs.items()}

    def children(self, p):
        return sorted((self.f[p] if p else self.f).keys())

    def read(self, p):
        d = self.f[p]
        if d.dtype.kind == "O" or d.dtype.kind == "S":
            return d.asstr()[()] if d.shape != () else np.array(d.asstr()[()], dtype=object)
        return d[()]


class _Zarr2Tree:
    def __init__(self, path: Path):
        import zarr
        self.g = zarr.open(str(path), mode="r")
        self._zarr = zarr

    def kind(self, p):
        if p and p not in self.g:
            return None
        o = self.g[p] if p else self.g
        return "group" if isinstance(o, self._zarr.hierarchy.Group) else "array"

    def attrs(self, p):
        return dict((self.g[p] if p else self.g).attrs)

    def children(self, p):
        return sorted((self.g[p] if p else self.g).keys())

    def read(self, p):
        return self.g[p][()]


class _Zarr3Tree:
    def __init__(self, path: Path):
        self.root = path

    def kind(self, p):
        meta = zarr3.node(self.root / p if p else self.root)
        return None if meta is None else meta["node_type"].replace("array", "array")

    def attrs(self, p):
        return zarr3.node(self.root / p if p else self.root).get("attributes", {})

    def children(self, p):
        return zarr3.children(self.root / p if p else self.root)

    def read(self, p):
        return zarr3.read_array(self.root / p)


def open_tree(path: Path):
    path = Path(path)
    if path.is_file():
        return _H5Tree(path)
    if (path / "zarr.json").is_file():
        return _Zarr3Tree(path)
    return _Zarr2Tree(path)


def _join(a, b):
    return f"{a}/{b}" if a else b


def _py(v):
    if v is None:
        return None
    if isinstance(v, (np.floating, float)) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def read_column(tree, p) -> list:
    """A data frame column's values per row; None where missing."""
    a = tree.attrs(p)
    enc = a.get("encoding-type", "")
    if tree.kind(p) == "group":
        if enc == "categorical":
            cats = read_column(tree, _join(p, "categories"))
            codes = np.asarray(tree.read(_join(p, "codes"))).reshape(-1)
            if codes.size and (codes.max() >= len(cats) or codes.min() < -1):
                raise ValueError(f"{p}: codes outside the categories")
            return [None if c < 0 else cats[c] for c in codes]
        if enc in ("nullable-integer", "nullable-boolean", "nullable-string-array"):
            values = np.asarray(tree.read(_join(p, "values"))).reshape(-1)
            mask = np.asarray(tree.read(_join(p, "mask"))).reshape(-1).astype(bool)
            return [None if m else _py(v) for v, m in zip(values, mask)]
        raise ValueError(f"{p}: column encoding {enc}")
    values = np.asarray(tree.read(p)).reshape(-1)
    return [_py(v) for v in values]


@dataclass
class Frame:
    index: List[str]
    columns: Dict[str, list]


def read_frame(tree, p, skip=()) -> Frame:
    a = tree.attrs(p)
    index_key = a.get("_index", "_index")
    index = ["" if v is None else str(v) for v in read_column(tree, _join(p, index_key))]
    order = a.get("column-order", [])
    order = [order] if isinstance(order, str) else list(order)
    return Frame(index, {c: read_column(tree, _join(p, c)) for c in order if c not in skip})


def _str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_record_frame(tree, p, uns) -> Frame:
    """An anndata <= 0.6 frame: one structured array; its ``index`` (or ``_index``) field is
    the index; an integer field with ``uns/<field>_categories`` is a categorical's codes."""
    rec = np.asarray(tree.read(p))
    names = list(rec.dtype.names)
    key = "index" if "index" in names else "_index"

    def column(name):
        v = rec[name]
        cats_p = _join(uns, f"{name}_categories")
        if v.dtype.kind in "iu" and tree.kind(cats_p) == "array":
            cats = [_str(c) for c in np.asarray(tree.read(cats_p)).reshape(-1)]
            return [None if c < 0 else cats[c] for c in v]
        return [_str(x) if v.dtype.kind in "SU" else _py(x) for x in v]

    return Frame([_str(x) for x in rec[key]], {c: column(c) for c in names if c != key})


def read_matrix(tree, p) -> Optional[np.ndarray]:
    """A dense, CSR or CSC element as a dense array; None for an absent or null element."""
    kind = tree.kind(p)
    if kind is None or tree.attrs(p).get("encoding-type") == "null":
        return None
    if kind == "array":
        return np.asarray(tree.read(p))
    a = tree.attrs(p)
    enc = a.get("encoding-type") or (a.get("h5sparse_format", "") + "_matrix")
    shape = tuple(int(s) for s in (a.get("shape") if "shape" in a else a["h5sparse_shape"]))
    parts = [np.asarray(tree.read(_join(p, k))) for k in ("data", "indices", "indptr")]
    cls = {"csr_matrix": sparse.csr_matrix, "csc_matrix": sparse.csc_matrix}[enc]
    return cls(tuple(parts), shape=shape).toarray()


@dataclass
class Reference:
    n_obs: int
    n_vars: int
    obs: Frame
    var_names: List[str]
    X: Optional[np.ndarray]
    layers: Dict[str, np.ndarray] = field(default_factory=dict)
    obsm: Dict[str, np.ndarray] = field(default_factory=dict)
    obsm_frames: List[str] = field(default_factory=list)


def read_anndata(tree, root: str = "", skip_obs=()) -> Reference:
    """``skip_obs``: damaged columns left out (they are listed as columns, never decoded)."""
    if tree.kind(_join(root, "obs")) == "array":  # anndata <= 0.6: record arrays
        uns = _join(root, "uns")
        obs = read_record_frame(tree, _join(root, "obs"), uns)
        var = read_record_frame(tree, _join(root, "var"), uns)
        rec = np.asarray(tree.read(_join(root, "obsm")))
        obsm = {k: rec[k] for k in rec.dtype.names}
        return Reference(len(obs.index), len(var.index), obs, var.index,
                         read_matrix(tree, _join(root, "X")), {}, obsm, [])
    obs = read_frame(tree, _join(root, "obs"), skip_obs)
    var = read_frame(tree, _join(root, "var"))
    layers, obsm, frames = {}, {}, []
    for group, out in (("layers", layers), ("obsm", obsm)):
        g = _join(root, group)
        if tree.kind(g) != "group":
            continue
        for name in tree.children(g):
            p = _join(g, name)
            if tree.attrs(p).get("encoding-type") == "dataframe":
                frames.append(name)
                continue
            out[name] = read_matrix(tree, p)
    return Reference(len(obs.index), len(var.index), obs, var.index,
                     read_matrix(tree, _join(root, "X")), layers, obsm, frames)
