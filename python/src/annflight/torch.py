"""PyTorch: an IterableDataset of whole minibatches planned by the server.

    from annflight.torch import AnnflightDataset
    ds = AnnflightDataset("grpc+tcp://127.0.0.1:8815",
                          {"collection": "demo", "obs_keys": ["cell_type"]},
                          batch_size=256, sampler={"kind": "block_shuffle"})
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2,
                                         multiprocessing_context="spawn")
    for epoch in range(3):
        ds.set_epoch(epoch)
        for batch in loader:       # {"X": [256, n_vars] float, "cell_type": [256] int64, ...}
            ...

The epoch is planned by the server (the request's ``sampler``, seeded by ``seed`` and
``set_epoch``) and cut into equal parts, one per DataLoader worker x torch.distributed rank
(``equal_parts``): every part has the same number of rows, so every rank gets the same number
of batches; with ``drop_last`` the remainder of the epoch and each part's last short batch are
dropped, else the epoch is padded with its first rows (as DistributedSampler does).
"""
import json
import sys
from typing import Dict, Iterator, Optional

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import torch
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from .arrow import csr_parts, fixed_size_list_matrix, n_cols
from .client import _READ_OPTIONS, _server_errors

# Server record batches hold this many minibatches (fewer messages, the same tensors).
_BATCHES_PER_MESSAGE = 16
_WORKER_SWITCH_INTERVAL_S = 0.0002


class AnnflightDataset(IterableDataset):
    """Yields one dict per minibatch, with MappedCollection's keys: each layers key (``X``,
    layers, ``raw.X``) as a float tensor ``[batch, n_vars]`` (the request's ``dtype``; a torch
    sparse CSR tensor with ``matrix_format: "csr"``), each
    obs key as int64 codes into the merged categories (-1 for the unknown label and missing
    labels; plain labels when the request does not encode the key are not supported here),
    each ``obsm_<key>`` as a tensor, ``_store_idx`` (int64) and, always, ``_row``: the
    collection row of each row.

    ``request``: any annflight request (``collection`` or ``paths``, ``obs_keys``,
    ``obsm_keys``, ``layers_keys``, ``obs_filter``, ``split``, ...); ``sampler`` overrides its
    sampler (``{"kind": "block_shuffle"}``, ``"shuffle"``, ``"weighted"``); its ``seed`` and
    ``epoch`` are filled in from ``seed`` and ``set_epoch`` unless given. ``compression``
    defaults to ``"lz4"``, the fastest on the project's benchmark.

    Resumable: ``state_dict()`` / ``load_state_dict()`` (torchdata's StatefulDataLoader
    protocol) hold the epoch and the rows this part has delivered; iterating after a load
    continues the epoch from there. Tensors are copies of the Arrow buffers (which are
    read-only), one bulk copy per minibatch and column, no per-row Python work.
    """

    def __init__(self, uri: str, request: dict, *, batch_size: int = 256,
                 sampler: Optional[dict] = None, seed: int = 0, drop_last: bool = False,
                 compression: str = "lz4", token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None):
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.uri = uri
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0
        self._resume = 0
        self._delivered = 0
        self._headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]
        self._connect_args = {} if tls_root_certs is None else {"tls_root_certs": tls_root_certs}
        base = {k: v for k, v in request.items() if k != "rows_per_endpoint"}
        if sampler is not None:
            base["sampler"] = sampler
        self.request = {**base, "return_index": True, "compression": compression,
                        "rows_per_batch": batch_size * _BATCHES_PER_MESSAGE}

    def set_epoch(self, epoch: int):
        self.epoch = epoch
        self._resume = 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "seed": self.seed, "rows": self._delivered}

    def load_state_dict(self, state: dict):
        self.epoch, self.seed = state["epoch"], state["seed"]
        self._resume = state["rows"]

    def epoch_request(self, parts: int) -> dict:
        """The request for this epoch cut into ``parts`` equal parts."""
        r = dict(self.request)
        if "sampler" in r:
            r["sampler"] = {"seed": self.seed, "epoch": self.epoch, **r["sampler"]}
        r["equal_parts"] = {"count": parts, "remainder": "drop" if self.drop_last else "pad"}
        return r

    def __iter__(self) -> Iterator[Dict[str, torch.Tensor]]:
        if get_worker_info() is not None:
            # The DataLoader hands each tensor to the main process through a file descriptor
            # served by a thread of this worker; with the default 5 ms GIL switch interval
            # that thread waits behind this loop for every tensor of every batch.
            sys.setswitchinterval(_WORKER_SWITCH_INTERVAL_S)
        shard, n_shards = shard_of_this_process()
        request = self.epoch_request(n_shards)
        options = fl.FlightCallOptions(headers=self._headers, read_options=_READ_OPTIONS)
        with _server_errors(), fl.connect(self.uri, **self._connect_args) as client:
            info = client.get_flight_info(
                fl.FlightDescriptor.for_command(json.dumps(request)), options)
            part = json.loads(info.endpoints[shard].ticket.ticket)
            start = part["start"] + self._resume
            ticket = {"request": part["request"], "start": start, "stop": part["stop"]}
            self._delivered = self._resume
            self._resume = 0
            reader = client.do_get(fl.Ticket(json.dumps(ticket).encode()), options)
            pending = None
            for chunk in reader:
                batch = chunk.data if pending is None else _concat(pending, chunk.data)
                pending = None
                n = batch.num_rows
                whole = n - n % self.batch_size
                for s in range(0, whole, self.batch_size):
                    self._delivered += self.batch_size
                    yield _tensors(batch.slice(s, self.batch_size))
                if whole < n:
                    pending = batch.slice(whole)
            if pending is not None and not self.drop_last:
                self._delivered += pending.num_rows
                yield _tensors(pending)


def _concat(a: pa.RecordBatch, b: pa.RecordBatch) -> pa.RecordBatch:
    return pa.Table.from_batches([a, b]).combine_chunks().to_batches()[0]


def _matrix(name: str, column: pa.FixedSizeListArray) -> np.ndarray:
    """A fixed-size-list column as a 2-D array. Rows of stores that lack the element (null
    rows) are NaN; integer matrices cannot hold that."""
    x, valid = fixed_size_list_matrix(column)
    if valid is not None:
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"column {name!r} has rows from stores without it, which an"
                             f" integer tensor cannot mark; request a float dtype")
        x[~valid] = np.nan
    return x


def _tensors(batch: pa.RecordBatch) -> Dict[str, torch.Tensor]:
    out = {}
    for field, column in zip(batch.schema, batch.columns):
        name = field.name
        if pa.types.is_fixed_size_list(column.type):
            out[name] = torch.from_numpy(_matrix(name, column))
        elif pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type):
            indptr, indices, values = csr_parts(column)
            out[name] = torch.sparse_csr_tensor(
                torch.from_numpy(indptr.astype(np.int64)),
                torch.from_numpy(indices.astype(np.int64)),
                torch.from_numpy(np.array(values)),
                size=(len(column), n_cols(field, column)), check_invariants=False)
        elif pa.types.is_dictionary(column.type):
            codes = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            out[name] = torch.from_numpy(codes.astype(np.int64))
        elif pa.types.is_integer(column.type):
            out[name] = torch.from_numpy(column.to_numpy(zero_copy_only=False).astype(np.int64))
        elif pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
            out[name] = torch.from_numpy(np.array(column.to_numpy(zero_copy_only=False)))
        else:
            raise TypeError(f"column {name!r} of type {column.type} has no tensor form here;"
                            " request it encoded (encode_labels) or leave it out")
    return out


def shard_of_this_process():
    """(this process's part, number of parts) over distributed ranks x DataLoader workers."""
    rank, world = 0, 1
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    worker = get_worker_info()
    worker_id, n_workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
    return rank * n_workers + worker_id, world * n_workers
