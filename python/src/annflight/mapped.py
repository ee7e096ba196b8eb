"""A drop-in for lamindb's ``MappedCollection`` served by annflight: the same constructor
arguments and the same map-style dataset behaviour, so code written for lamindb
(``DataLoader(mc, sampler=WeightedRandomSampler(mc.get_label_weights(...)))``) runs after
changing the import."""
import os
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import pyarrow as pa

from .arrow import fixed_size_list_matrix, label_codes
from .client import Client, sized_by_bytes
from .target import resolve

Keys = Optional[Union[str, List[str]]]


def _listed(keys: Keys) -> List[str]:
    if keys is None:
        return []
    return [keys] if isinstance(keys, str) else list(keys)


class _AcceptsTheOldForm(type):
    """Rewrites the older ``MappedCollection(uri, path_list=..., ...)`` call (the server's
    address first) into ``MappedCollection(path_list, ..., uri=uri)`` before Python binds it to
    lamindb's signature, with a DeprecationWarning."""

    def __call__(cls, *args, **kwargs):
        if args and isinstance(args[0], str) and "://" in args[0] and "uri" not in kwargs:
            warnings.warn("MappedCollection(uri, path_list=...) is deprecated and goes in the "
                          "next release: use MappedCollection(path_list, ..., uri=uri) "
                          "(lamindb's signature)", DeprecationWarning, stacklevel=2)
            kwargs["uri"] = args[0]
            if len(args) > 1:
                kwargs["path_list"] = args[1]
            if len(args) > 2:
                raise TypeError("the older MappedCollection(uri, path_list, ...) form takes "
                                "its other arguments by keyword")
            args = ()
        return super().__call__(*args, **kwargs)


class MappedCollection(metaclass=_AcceptsTheOldForm):
    """lamindb's ``MappedCollection(path_list, layers_keys, obs_keys, obsm_keys, obs_filter,
    join, encode_labels, unknown_label, cache_categories, parallel, dtype)`` over a server.

    The server is ``uri`` when given, else the ``ANNFLIGHT_URI`` environment variable, else a
    local server the package starts (one per process; see :mod:`annflight.target`): then
    ``path_list`` holds local paths, absolute or relative to the working directory, as lamindb
    takes them; with a named server, paths relative to its data root. A configured
    ``collection`` may replace ``path_list``. ``mc[i]`` is a dict: each layers key's row
    (numpy), each obs key's label (encoded: its position in the merged categories, -1 for the
    unknown label and for missing labels), ``obsm_<key>`` rows, ``_store_idx``.
    ``mc.__getitems__(indices)`` fetches a whole minibatch in one request (torch's DataLoader
    uses it when present). ``cache_categories`` and ``parallel`` are accepted for
    compatibility; the server computes categories once per collection and reads in parallel
    whatever they say. Beyond lamindb: ``var_names`` fixes the matrix columns to a vocabulary
    (names no store has are zeros; overrides ``join``), matched against the var column
    ``var_key`` instead of the index when given.
    """

    def __init__(self, path_list: Optional[Sequence[str]] = None, layers_keys: Keys = None,
                 obs_keys: Keys = None, obsm_keys: Keys = None,
                 obs_filter: Optional[Dict] = None, join: Optional[str] = "inner",
                 encode_labels: Union[bool, List[str]] = True,
                 unknown_label: Optional[Union[str, Dict[str, str]]] = None,
                 cache_categories: bool = True, parallel: bool = False,
                 dtype: Optional[str] = None, *, uri: Optional[str] = None,
                 collection: Optional[str] = None, token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None,
                 var_names: Optional[Sequence[str]] = None, var_key: Optional[str] = None):
        if (path_list is None) == (collection is None):
            raise ValueError("name the stores with either path_list or collection")
        target = resolve(uri, token)
        self.uri, self._token, self._tls = target.uri, target.token, tls_root_certs
        if collection is not None:
            request = {"collection": collection}
        else:
            listed = [path_list] if isinstance(path_list, (str, os.PathLike)) else path_list
            request = target.localise({"paths": [os.fspath(p) for p in listed]})
        self.layers_keys = _listed(layers_keys) or ["X"]
        self.obs_keys = _listed(obs_keys)
        self.obsm_keys = _listed(obsm_keys)
        request.update({"layers_keys": self.layers_keys, "obs_keys": self.obs_keys,
                        "obsm_keys": self.obsm_keys, "join": join,
                        "encode_labels": encode_labels, "unknown_label": unknown_label,
                        "dtype": dtype})
        if obs_filter is not None:
            request["obs_filter"] = obs_filter
        if var_names is not None:
            request["var_names"] = list(var_names)
        if var_key is not None:
            request["var_key"] = var_key
        # Messages by bytes: rows as wide as the stores' allow, whatever the width.
        self.request = sized_by_bytes(request)
        self.cache_categories, self.parallel = cache_categories, parallel
        self._client = None
        self._pid = None
        self._closed = False
        self._n_obs = int(self._connection().shape(self.request)[0])

    # ------------------------------------------------------------------ connection

    def _connection(self) -> Client:
        """One Flight client per process: DataLoader workers open their own."""
        if self._closed:
            raise RuntimeError("the MappedCollection is closed")
        if self._client is None or self._pid != os.getpid():
            self._client = Client(self.uri, token=self._token, tls_root_certs=self._tls)
            self._pid = os.getpid()
        return self._client

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_client"] = None  # gRPC channels do not survive pickling into workers
        return state

    @staticmethod
    def torch_worker_init_fn(worker_id: int):
        """For lamindb compatibility: each worker opens its own connection on first use."""

    def close(self):
        if self._client is not None:
            self._client.close()
        self._client = None
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ dataset

    def __len__(self) -> int:
        return self._n_obs

    @property
    def n_obs(self) -> int:
        return self._n_obs

    def __getitem__(self, idx: int) -> dict:
        return self.__getitems__([idx])[0]

    def __getitems__(self, indices: Sequence[int]) -> List[dict]:
        rows = [int(i) + self._n_obs if int(i) < 0 else int(i) for i in indices]
        for i, r in zip(indices, rows):
            if not 0 <= r < self._n_obs:
                raise IndexError(f"index {i} out of range for a collection of {self._n_obs}")
        table = self._connection().do_get({"request": self.request, "indices": rows})
        columns = {name: _column(table[name].combine_chunks()) for name in table.column_names}
        return [{k: v[i] for k, v in columns.items()} for i in range(table.num_rows)]

    # ------------------------------------------------------------------ lamindb's methods

    @property
    def shape(self) -> tuple:
        return self._connection().shape(self.request)

    @property
    def original_shapes(self) -> List[tuple]:
        return self._connection().original_shapes(self.request)

    @property
    def var_joint(self) -> Optional[List[str]]:
        return self._connection().var_joint(self.request)

    def check_vars_sorted(self, ascending: bool = True) -> bool:
        return self._connection().check_vars_sorted(self.request, ascending)

    def check_vars_non_aligned(self, vars: List[str]) -> List[int]:
        return self._connection().check_vars_non_aligned(self.request, vars)

    def get_label_weights(self, obs_keys: Union[str, List[str]],
                          scaler: Optional[float] = None, return_categories: bool = False):
        return self._connection().get_label_weights(self.request, obs_keys, scaler,
                                                    return_categories)

    def get_merged_labels(self, label_key: str) -> np.ndarray:
        return self._connection().get_merged_labels(self.request, label_key)

    def get_merged_categories(self, label_key: str) -> list:
        return self._connection().get_merged_categories(self.request, label_key)


def _column(col: pa.Array):
    """A column as something indexable by row: a 2-D array (rows are views of one copy) for
    fixed-size lists, codes for encoded labels, else Python values."""
    if pa.types.is_fixed_size_list(col.type):
        matrix, valid = fixed_size_list_matrix(col)
        if valid is not None:  # rows of stores without the element: None, as lamindb has none
            return [matrix[i] if valid[i] else None for i in range(len(col))]
        return matrix
    if pa.types.is_list(col.type):  # rows of different widths (join null)
        dtype = col.type.value_type.to_pandas_dtype()
        return [None if v is None else np.asarray(v, dtype=dtype) for v in col.to_pylist()]
    if pa.types.is_dictionary(col.type):
        return label_codes(col)
    return col.to_pylist()
