"""A PyTorch IterableDataset over an annflight collection (copy this file into your project).

    from annflight_torch import AnnflightDataset
    ds = AnnflightDataset("grpc+tcp://127.0.0.1:8815", {"collection": "demo"},
                          label_key="cell_type", unknown_label="unknown")
    loader = torch.utils.data.DataLoader(ds, batch_size=256, num_workers=2,
                                         multiprocessing_context="spawn")
    for x, y in loader: ...   # x: float32 [batch, n_vars]; y: int64 [batch], -1 = unknown/missing

The collection's endpoints are split across DataLoader workers and, when torch.distributed is
initialised, across ranks: every row is read once per epoch by exactly one (rank, worker).
Endpoints are independent Flight streams, so workers read in parallel. Split the collection
into more endpoints than ranks x workers with the request's ``rows_per_endpoint``; with
distributed training, ranks may get a different number of rows (use ``Join`` or drop_last).

Needs pyarrow and torch only. Flight clients are made inside ``__iter__`` (they cannot be
pickled into worker processes); prefer ``multiprocessing_context="spawn"``, as gRPC does not
support fork after a channel was opened in the parent.
"""
import json
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import torch
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

# Aligned buffers: numpy and torch views of large batches without unaligned-access copies.
_OPTIONS = fl.FlightCallOptions(read_options=pa.ipc.IpcReadOptions(
    ensure_alignment=pa.ipc.Alignment.DataTypeSpecific))


class AnnflightDataset(IterableDataset):
    """Yields ``(x, y)`` per row (or ``(x, y, row)`` with ``return_index``): ``x`` the layer's
    row as a float tensor, ``y`` the row's label encoded against the collection's merged
    categories, -1 for the unknown label and missing labels.

    ``request`` is an annflight request ({"collection": ...} or {"paths": [...]}, plus any
    request key such as ``join``, ``obs_filter`` or ``rows_per_endpoint``); the dataset asks for
    ``layer`` and ``label_key`` only. ``shuffle`` asks the server for a ``block_shuffle`` epoch
    (seeded by ``seed``, changed by ``set_epoch``): consecutive rows come from all over the
    collection, and every worker and rank reads its endpoints of the same epoch. ``sampler``
    asks for any other server-side sampler instead (``{"kind": "weighted", ...}``; ``seed``
    and the epoch are filled in when it has none).

    ``compression`` is the request's ``compression``: ``"lz4"`` (the default), ``"zstd"`` or
    ``"none"``. The server compresses the batch buffers (Arrow IPC buffer compression) and
    pyarrow decompresses them while reading. Expression matrices are mostly zeros and shrink
    several-fold, and LZ4 costs less CPU than moving the uncompressed bytes, even over the
    loopback: it was the fastest setting in the project's benchmark. ``"zstd"`` is smaller
    still and costs the server more CPU (for slow networks); ``"none"`` turns it off.
    """

    def __init__(self, uri: str, request: dict, label_key: str, layer: str = "X",
                 unknown_label: Optional[str] = None, dtype: str = "float32",
                 shuffle: bool = False, seed: int = 0, return_index: bool = False,
                 compression: str = "lz4", sampler: Optional[dict] = None):
        super().__init__()
        self.uri = uri
        self.label_key = label_key
        self.layer = layer
        # _row says which collection row each row is: ticket positions are epoch positions.
        self.request = {**request, "layers_keys": [layer], "obs_keys": [label_key],
                        "obsm_keys": [], "dtype": dtype, "unknown_label": unknown_label,
                        "compression": compression, "return_index": True}
        self.sampler = sampler if sampler is not None else (
            {"kind": "block_shuffle"} if shuffle else None)
        self.unknown_label = unknown_label
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.return_index = return_index

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def categories(self) -> List:
        """The labels y indexes (the merged categories without the unknown label)."""
        body = {**self.request, "args": {"label_key": self.label_key}}
        with fl.connect(self.uri) as client:
            result = next(client.do_action(fl.Action(
                "get_merged_categories", json.dumps(body).encode())))
        cats = json.loads(result.body.to_pybytes())
        return [c for c in cats if c != self.unknown_label]

    def epoch_request(self) -> dict:
        """The request of the current epoch: the sampler seeded and set to this epoch."""
        if self.sampler is None:
            return self.request
        sampler = {"seed": self.seed, "epoch": self.epoch, **self.sampler}
        return {**self.request, "sampler": sampler}

    def endpoints(self, client) -> Sequence[fl.FlightEndpoint]:
        info = client.get_flight_info(
            fl.FlightDescriptor.for_command(json.dumps(self.epoch_request())), _OPTIONS)
        return list(info.endpoints)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, ...]]:
        shard, n_shards = shard_of_this_process()
        with fl.connect(self.uri) as client:
            for endpoint in self.endpoints(client)[shard::n_shards]:
                for batch in client.do_get(endpoint.ticket, _OPTIONS).to_reader():
                    x, y = self._tensors(batch)
                    rows = batch.column("_row").to_numpy()
                    for i in range(len(y)):
                        if self.return_index:
                            yield x[i], y[i], int(rows[i])
                        else:
                            yield x[i], y[i]

    def _tensors(self, batch: pa.RecordBatch) -> Tuple[torch.Tensor, torch.Tensor]:
        layer = batch.column(self.layer)
        width = layer.type.list_size
        x = np.array(layer.flatten().to_numpy(zero_copy_only=False)).reshape(-1, width)
        labels = batch.column(self.label_key)
        y = labels.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return torch.from_numpy(x), torch.from_numpy(y)


def shard_of_this_process() -> Tuple[int, int]:
    """(this process's shard, number of shards) over distributed ranks x DataLoader workers."""
    rank, world = 0, 1
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    worker = get_worker_info()
    worker_id, n_workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
    return rank * n_workers + worker_id, world * n_workers
