"""What a collection request must return, computed with anndata and pandas (not with annflight).

The stores are read with Debian's anndata 0.8 from the project's fixture directory; the
MappedCollection semantics the README documents (concatenation, var join, label decoding,
merged categories, encoding, obs_filter, label weights) are applied here with pandas/numpy.
"""
import sys
import warnings
from collections import Counter
from functools import reduce
from pathlib import Path
from typing import Dict, List, Optional

import anndata
import numpy as np
import pandas as pd
from scipy import sparse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "flight-server/src/test/resources/fixtures"
DEMO = REPO / "flight-server/src/main/resources/demo"

# anndata 0.8 cannot read nullable-string-array columns (the fixtures' `note`) without the
# reader registration the fixture script has.
sys.path.insert(0, str(REPO / "tools/fixtures"))
from make_fixtures import register_nullable_string_reader  # noqa: E402

register_nullable_string_reader()
_CACHE: Dict[tuple, anndata.AnnData] = {}


def read_demo(name: str) -> anndata.AnnData:
    return read(name, DEMO)


def read(name: str, directory: Path = FIXTURES) -> anndata.AnnData:
    if (directory, name) not in _CACHE:
        path = directory / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[directory, name] = (anndata.read_h5ad(path) if path.suffix == ".h5ad"
                            else anndata.read_zarr(str(path)))
    return _CACHE[directory, name]


def _dense(m) -> Optional[np.ndarray]:
    if m is None:
        return None
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def _py(v):
    """A label as a python value, None where missing (NaN, pd.NA, None)."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


def _decode(series: pd.Series):
    """(values per row, category contribution): categoricals contribute every category."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = [_py(c) for c in series.cat.categories]
        return [None if c == -1 else cats[c] for c in series.cat.codes], cats
    values = [_py(v) for v in series.astype(object)]
    return values, sorted({v for v in values if v is not None})


class Expected:
    def __init__(self, paths: List[str], obs_keys=(), obsm_keys=(), join="inner",
                 obs_filter: Optional[dict] = None, unknown_label: Optional[str] = None,
                 directory: Path = FIXTURES):
        self.paths = list(paths)
        self.stores = [read(p, directory) for p in self.paths]
        self.obs_keys, self.obsm_keys = list(obs_keys), list(obsm_keys)
        self.unknown_label = unknown_label
        self.masks = [self._filter_mask(a, obs_filter or {}) for a in self.stores]
        self.vars = [pd.Index([str(v) for v in a.var_names]) for a in self.stores]
        if all(v.equals(self.vars[0]) for v in self.vars):
            self.var_joint = self.vars[0]
        elif join == "inner":
            self.var_joint = reduce(lambda a, b: a.intersection(b, sort=False), self.vars)
        elif join == "outer":
            self.var_joint = reduce(lambda a, b: a.union(b), self.vars).sort_values()
        else:
            raise ValueError("join null with differing vars is not modelled here")

    @staticmethod
    def _filter_mask(a, obs_filter) -> np.ndarray:
        mask = np.ones(a.n_obs, dtype=bool)
        for key, values in obs_filter.items():
            values = values if isinstance(values, list) else [values]
            if key not in a.obs.columns:
                return np.zeros(a.n_obs, dtype=bool)
            mask &= np.array([v in values for v in _decode(a.obs[key])[0]], dtype=bool)
        return mask

    @property
    def n_obs(self) -> int:
        return int(sum(m.sum() for m in self.masks))

    @property
    def shape(self):
        return [self.n_obs, len(self.var_joint)]

    def original_shapes(self):
        return [[int(m.sum()), a.n_vars] for a, m in zip(self.stores, self.masks)]

    def store_idx(self) -> np.ndarray:
        return np.concatenate([np.full(int(m.sum()), i, dtype=np.int32)
                               for i, m in enumerate(self.masks)])

    def X(self) -> np.ndarray:
        dtype = np.result_type(*[a.X.dtype for a in self.stores])
        blocks = []
        for a, var, m in zip(self.stores, self.vars, self.masks):
            frame = pd.DataFrame(_dense(a.X)[m], columns=var)
            blocks.append(frame.reindex(columns=self.var_joint, fill_value=0).to_numpy(dtype))
        return np.concatenate(blocks).astype(dtype)

    def obsm(self, key: str) -> list:
        """One row vector per row, None where the row's store lacks the key."""
        rows = []
        for a, m in zip(self.stores, self.masks):
            if key in a.obsm.keys():
                rows.extend(list(_dense(a.obsm[key])[m]))
            else:
                rows.extend([None] * int(m.sum()))
        return rows

    def merged_categories(self, key: str) -> list:
        """Sorted union over the stores having the key, before obs_filter."""
        cats = set()
        for a in self.stores:
            if key in a.obs.columns:
                cats.update(_decode(a.obs[key])[1])
        return sorted(cats)

    def dictionary(self, key: str) -> list:
        return [c for c in self.merged_categories(key) if c != self.unknown_label]

    def labels(self, key: str) -> list:
        """Per row: the decoded label, None where missing or the store lacks the key."""
        out = []
        for a, m in zip(self.stores, self.masks):
            values = _decode(a.obs[key])[0] if key in a.obs.columns else [None] * a.n_obs
            out.extend(v for v, keep in zip(values, m) if keep)
        return out

    def codes(self, key: str) -> list:
        """Encoded labels: position in the dictionary; None for missing and the unknown label."""
        position = {c: i for i, c in enumerate(self.dictionary(key))}
        return [None if v is None or v == self.unknown_label else position[v]
                for v in self.labels(key)]

    def merged_labels(self, key: str) -> list:
        """lamindb's get_merged_labels: only the stores having the key (not padded)."""
        out = []
        for a, m in zip(self.stores, self.masks):
            if key in a.obs.columns:
                out.extend(v for v, keep in zip(_decode(a.obs[key])[0], m) if keep)
        return out

    def label_weights(self, keys, scaler=None):
        """lamindb's get_label_weights: labels as numpy strings ('nan' for missing), joined
        with '__' over several keys, 1/count (or scaler/(count+scaler)) per row."""
        keys = [keys] if isinstance(keys, str) else keys
        per_key = [["nan" if v is None else str(v) for v in self.merged_labels(k)] for k in keys]
        labels = ["__".join(t) for t in zip(*per_key)]
        counter = Counter(labels)
        counts = np.array([counter[label] for label in labels], dtype=np.float64)
        weights = 1.0 / counts if scaler is None else scaler / (counts + scaler)
        categories = {k: (1.0 / v if scaler is None else scaler / (v + scaler))
                      for k, v in counter.items()}
        return weights, categories
