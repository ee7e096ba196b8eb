"""PyTorch: an IterableDataset of whole minibatches planned by the server.

    from annflight.torch import AnnflightDataset
    ds = AnnflightDataset({"paths": ["a.h5ad", "b.zarr"], "obs_keys": ["cell_type"]},
                          batch_size=256, sampler={"kind": "block_shuffle"})
    # the server: uri=..., else ANNFLIGHT_URI, else a local one (annflight.target)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2,
                                         multiprocessing_context="spawn")
    for epoch in range(3):
        ds.set_epoch(epoch)
        for batch in loader:       # {"X": [256, n_vars] float, "cell_type": [256] int64, ...}
            ...

The epoch is planned by the server (the request's ``sampler``, seeded by ``seed`` and
``set_epoch``) and dealt batch by batch to the parts, one per DataLoader worker x
torch.distributed rank (``annflight.layout``): every part has the same number of rows, so every
rank gets the same number of batches; with ``drop_last`` the remainder of the epoch and each
part's last short batch are dropped, else the epoch is padded with its first rows (as
DistributedSampler does). What the parts have consumed together is always a prefix of the
epoch, so the state is the epoch, the seed and the global positions consumed, and resumes on
any number of ranks and workers (docs/guide/resume.md).
"""
import copy
import itertools
import json
import os
import secrets
import sys
import threading
import weakref
from typing import Dict, Iterator, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from . import shm
from .arrow import csr_null_rows, csr_parts, label_codes, n_cols, nan_matrix, scatter_rows
from .client import (_server_errors, auth_headers, connect_args, described_sparse,
                     endpoint_batches, endpoint_locations, sized_by_bytes)
from .layout import EpochLayout
from .memory import reuse_message_memory
from .target import request_and_uri, resolve

_WORKER_SWITCH_INTERVAL_S = 0.0002
# Every value of a minibatch is copied into tensors of its own (_tensors), which needs no
# aligned source: asking pyarrow to realign buffers on arrival (the IPC body starts wherever
# the Flight header ends) would copy every message once more.
_READ_OPTIONS = pa.ipc.IpcReadOptions()
# Messages of CSR rows (matrix_format "csr", or dense tensors sent as CSR rows): their entries'
# index and value buffers stay within 4 MiB each, a share of one of the server's 16 MiB pooled
# chunks (a buffer the size of a chunk is fresh, zeroed memory every time), and the message
# within the size glibc reuses on this side rather than mapping fresh pages for each.
CSR_MESSAGE_BYTES = 8 << 20


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
    ``epoch`` are filled in from ``seed`` and ``set_epoch`` unless given. Server messages
    hold about ``client.MESSAGE_BYTES``, ``CSR_MESSAGE_BYTES`` when they carry CSR rows (the
    server fits as many rows as the stores' real row sizes allow; a minibatch may span
    messages), unless the request sets ``rows_per_batch`` or ``bytes_per_batch``. ``compression``: None (default) sends dense rows with ``"lz4"`` and
    CSR rows uncompressed (the non-zeros' values and indices compress too little to pay for
    the codec on both sides); or ``"none"``, ``"lz4"``, ``"zstd"``. ``transport``: how dense
    matrices travel: ``"auto"`` (CSR rows when every store holds the matrix sparse, else
    dense rows), ``"csr"`` or ``"dense"``; the tensors are the same either way.
    ``shared_memory``: whether batches come from a server on this host through a ring of
    shared memory instead of gRPC (docs/reference/shared-memory.md): ``"auto"`` (default) when
    the server's address is loopback (the package's own local server is) and the server
    agrees, ``True`` wherever the server agrees, ``False`` never; the tensors are the same.
    ``index_dtype``: the dtype of sparse CSR tensors' row pointers and column indices,
    ``torch.int64`` (default) or ``torch.int32`` (half their memory and copies; the index type
    cuSPARSE works in). A minibatch of more than 2**31 - 1 stored values is refused with int32.

    Resumable: ``state_dict()`` / ``load_state_dict()`` (torchdata's StatefulDataLoader
    protocol) hold the epoch, the seed and the global positions consumed by every rank and
    worker together; iterating after a load continues the epoch's global order from there on
    any number of ranks and workers. The batches consumed are counted where they are handed
    over: by this dataset when iterated in this process, by ``AnnflightLoader`` when
    DataLoader workers build them, by the Lightning module's hook in a Trainer. Tensors are
    copies of the Arrow buffers (which are read-only), one bulk copy per minibatch and column,
    no per-row Python work. Iterating raises glibc's malloc thresholds in the process that
    reads the stream (``annflight.memory``), so that message buffers are reused, not fresh
    pages for every message.
    """

    def __init__(self, request: dict, _request_after_uri: Optional[dict] = None, *,
                 uri: Optional[str] = None, batch_size: int = 256,
                 sampler: Optional[dict] = None, seed: int = 0, drop_last: bool = False,
                 compression: Optional[str] = None, transport: str = "auto",
                 shared_memory: Union[str, bool] = "auto", token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None,
                 index_dtype: torch.dtype = torch.int64):
        super().__init__()
        request, uri = request_and_uri(request, _request_after_uri, uri, "AnnflightDataset")
        target = resolve(uri, token)
        uri, token, request = target.uri, target.token, target.localise(request)
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.uri = uri
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0
        # A loaded state the next pass continues from (None: the epoch's start).
        self._resume = None
        # This pass: its layout, (part, parts, ranks) and the batches this copy's part has
        # delivered; and the batches this rank's consumer took (see _count_step).
        self._layout = None
        self._part = (0, 1, 1)
        self._delivered = 0
        self._steps = 0
        self._counts_own_steps = True
        # Passes of this copy in a DataLoader worker since the epoch was set: a persistent
        # worker keeps its copy, which the main process's set_epoch never reaches.
        self._passes = 0
        self._serving = 0
        # (rank, world) of the process that sent this copy to a DataLoader worker: a spawned
        # worker has no process group of its own.
        self._dist = None
        self._headers = auth_headers(token)
        self._connect_args = connect_args(tls_root_certs)
        base = {k: v for k, v in request.items() if k != "rows_per_endpoint"}
        if sampler is not None:
            base["sampler"] = sampler
        if transport not in ("auto", "csr", "dense"):
            raise ValueError(f"transport must be 'auto', 'csr' or 'dense', got {transport!r}")
        self.transport = transport
        shm.wanted(shared_memory, "")  # refuses an unknown mode here, not in a worker
        self.shared_memory = shared_memory
        if index_dtype not in (torch.int64, torch.int32):
            raise ValueError(f"index_dtype must be torch.int64 or torch.int32, got {index_dtype}")
        self.index_dtype = index_dtype
        self._densify = None  # decided on the first pass (_wire_csr)
        self.compression = compression
        self._sized_by_request = "rows_per_batch" in base or "bytes_per_batch" in base
        self.request = sized_by_bytes({**base, "return_index": True})

    def __getstate__(self):
        state = self.__dict__.copy()
        if dist.is_available() and dist.is_initialized():
            state["_dist"] = (dist.get_rank(), dist.get_world_size())
        return state

    def set_epoch(self, epoch: int):
        """The epoch the next pass serves. With ``persistent_workers`` the workers keep their
        own copies, which this call cannot reach: each of them serves the epoch it was
        created with, then advances by one per pass, so the usual
        ``for e in ...: set_epoch(e); for batch in loader`` loop gets epoch e either way."""
        self.epoch = self._serving = epoch
        self._resume = None
        self._passes = 0
        self._layout, self._steps, self._delivered = None, 0, 0

    def state_dict(self) -> dict:
        """``{"epoch", "seed", "positions"}``: the global positions of the epoch consumed by
        every rank and worker together (a copy in a DataLoader worker adds ``"part"``: its own
        progress, so that torchdata's StatefulDataLoader resumes each worker exactly)."""
        state = {"epoch": self._serving, "seed": self.seed, "positions": self.positions()}
        if get_worker_info() is not None and self._layout is not None:
            part, parts, _ = self._part
            state["part"] = {"start": self._layout.start, "parts": parts, "index": part,
                             "batches": self._delivered}
        return state

    def load_state_dict(self, state: dict):
        """Continue the epoch of ``state`` after its global positions, here on any number of
        ranks and workers (as many as when it was taken: each part where it was)."""
        self.epoch, self.seed = state["epoch"], state["seed"]
        self._serving = self.epoch
        self._resume = dict(state)
        self._passes = 0
        self._layout, self._steps, self._delivered = None, 0, 0

    def positions(self) -> int:
        """The global positions of the current pass consumed so far (all ranks and workers)."""
        if self._layout is None:
            return self._resume["positions"] if self._resume else 0
        part, parts, world = self._part
        if get_worker_info() is not None:
            # This worker's batches alone: the loader took its workers' batches in turn, so
            # after its c-th batch, (c - 1) * workers + worker + 1 steps (at least) are done.
            workers, worker = parts // world, part // world
            steps = (self._delivered - 1) * workers + worker + 1 if self._delivered else 0
        else:
            steps = self._steps
        return self._layout.consumed(steps * world)

    def _count_step(self):
        """One more batch taken by this rank's consumer (an AnnflightLoader or a trainer calls
        this where the batch is really consumed)."""
        self._steps += 1

    def _start(self, part: int, parts: int) -> tuple:
        """(first position, batches already delivered) of this pass's part: a StatefulDataLoader
        worker's own state continues exactly; any other state from its global positions."""
        resume = self._resume
        if not resume:
            return 0, 0
        own = resume.get("part")
        if own and own["parts"] == parts and own["index"] == part:
            return own["start"], own["batches"]
        return resume["positions"], 0

    def _begin_pass(self, parts: int, world: int) -> EpochLayout:
        """In the training process, while workers serve the parts: this pass's layout over
        ``parts`` parts (``world`` ranks), from the loaded state if any, to count against."""
        whole = self.epoch_request(1)
        whole.pop("equal_parts")
        info = self._flight_info(whole)
        start, _ = self._start(-1, parts)
        self._layout = EpochLayout(start, info.total_records, parts, self.batch_size,
                                   self.drop_last)
        self._part, self._steps, self._delivered = (0, parts, world), 0, 0
        return self._layout

    def _flight_info(self, request: dict, client=None, options=None) -> fl.FlightInfo:
        options = options or fl.FlightCallOptions(headers=self._headers,
                                                  read_options=_READ_OPTIONS)
        descriptor = fl.FlightDescriptor.for_command(json.dumps(request))
        if client is not None:
            return client.get_flight_info(descriptor, options)
        with _server_errors(), fl.connect(self.uri, **self._connect_args) as own:
            return own.get_flight_info(descriptor, options)

    def epoch_request(self, parts: int, epoch: Optional[int] = None) -> dict:
        """The request for ``epoch`` (default: the set one) cut into ``parts`` equal parts."""
        r = dict(self.request)
        if "sampler" in r:
            epoch = self.epoch if epoch is None else epoch
            r["sampler"] = {"seed": self.seed, "epoch": epoch, **r["sampler"]}
        r["equal_parts"] = {"count": parts, "remainder": "drop" if self.drop_last else "pad"}
        return r

    def _wire_csr(self, client: fl.FlightClient, options: fl.FlightCallOptions) -> bool:
        """Whether dense tensors travel as CSR rows (scattered into the tensor's zeroed block
        here): with ``transport="auto"``, when every store holding a requested layers key
        stores it sparse. A few non-zeros per row then cost the server, the wire and this
        process far less than dense rows with LZ4; dense stores go dense."""
        if self.request.get("matrix_format", "dense") != "dense" or self.transport == "dense":
            return False
        if self.transport == "csr":
            return True
        return described_sparse(client, options, self.request)

    def __iter__(self) -> Iterator[Dict[str, torch.Tensor]]:
        # In a DataLoader worker, each batch is built in a slot of shared memory.
        shared = get_worker_info() is not None
        if shared:
            # The DataLoader hands a slot to the main process (once) as a file descriptor
            # served by a thread of this worker; with the default 5 ms GIL switch interval
            # that thread waits behind this loop.
            sys.setswitchinterval(_WORKER_SWITCH_INTERVAL_S)
        # Messages of megabytes each: their memory is reused, not fresh pages every time.
        reuse_message_memory()
        epoch = self.epoch
        if shared:
            epoch += self._passes
            self._passes += 1
        self._serving = epoch
        shard, n_shards = shard_of_this_process(self._dist)
        world = _world(self._dist)
        request = self.epoch_request(n_shards, epoch)
        whole = {k: v for k, v in request.items() if k != "equal_parts"}
        options = fl.FlightCallOptions(headers=self._headers, read_options=_READ_OPTIONS)
        with _server_errors(), fl.connect(self.uri, **self._connect_args) as client:
            if self._densify is None:
                self._densify = self._wire_csr(client, options)
            if self._densify:
                request["matrix_format"] = whole["matrix_format"] = "csr"
            if request.get("matrix_format", "dense") == "csr" and not self._sized_by_request:
                request["bytes_per_batch"] = whole["bytes_per_batch"] = CSR_MESSAGE_BYTES
            # LZ4 pays on dense rows; CSR rows hardly compress and cost its time twice.
            request["compression"] = whole["compression"] = self.compression or (
                "none" if request.get("matrix_format", "dense") == "csr" else "lz4")
            info = self._flight_info(whole, client, options)
            # The equal parts' endpoints only say which replica serves this part.
            parts = self._flight_info(request, client, options) if n_shards > 1 else info
        start, skip = self._start(shard, n_shards)
        self._resume = None
        layout = EpochLayout(start, info.total_records, n_shards, self.batch_size,
                             self.drop_last)
        self._layout, self._part = layout, (shard, n_shards, world)
        self._delivered, self._steps = skip, skip
        if not info.endpoints or not parts.endpoints:
            return
        # Tickets name this part's positions of the whole epoch; its replica first, the
        # alternates after it should it fail.
        base = {k: v for k, v in json.loads(info.endpoints[0].ticket.ticket).items()
                if k not in ("start", "stop")}
        locations = endpoint_locations(parts.endpoints[min(shard, len(parts.endpoints) - 1)],
                                       self.uri)

        # A ring of shared memory of this process's own (a worker makes its own), reused by
        # the part's tickets and unlinked when the pass ends.
        shared_reader = shm.Reader(self.shared_memory, self._headers, _READ_OPTIONS,
                                   slot_bytes=shm.slot_bytes_for(request.get("bytes_per_batch")))

        def part_batches():
            try:
                for positions in layout.tickets(shard, skip):
                    yield from endpoint_batches(locations, {**base, "indices": positions},
                                                options, self._connect_args, shared_reader)
            finally:
                shared_reader.close()

        reader = part_batches()
        own_steps = self._counts_own_steps and not shared
        # Rows received and not yet delivered, as slices of the messages they came in: a
        # minibatch may span messages (wide rows), and is then built from its pieces with one
        # copy per piece, no concatenation first.
        pieces, held = [], 0
        for data in reader:
            start, n = 0, data.num_rows
            while start < n:
                take = min(self.batch_size - held, n - start)
                pieces.append(data.slice(start, take))
                held += take
                start += take
                if held == self.batch_size:
                    self._delivered += 1
                    self._steps += own_steps
                    yield _tensors(pieces, shared, self._densify, self.index_dtype)
                    pieces, held = [], 0
            # Rows kept for a minibatch that spans messages keep their messages' slots of a
            # shared-memory ring, which the server takes in turn: before they are all held
            # (the server would wait for one while this waits for its next message), the kept
            # rows are copied out and their slots freed.
            if pieces and shm.slots_viewed(pieces) >= shared_reader.slot_count - 1:
                pieces = [shm.private_copy(p) for p in pieces]
        if held and not self.drop_last:
            self._delivered += 1
            self._steps += own_steps
            yield _tensors(pieces, shared, self._densify, self.index_dtype)


class AnnflightLoader(DataLoader):
    """A DataLoader of an ``AnnflightDataset``'s whole minibatches (``batch_size=None``;
    workers spawned, as gRPC needs) that counts the batches it hands over, so that the
    dataset's ``state_dict()`` in this process holds the global positions consumed even when
    workers build the batches. ``state_dict()`` / ``load_state_dict()`` are the dataset's."""

    def __init__(self, dataset: AnnflightDataset, **kwargs):
        if kwargs.get("num_workers", 0) > 0:
            kwargs.setdefault("multiprocessing_context", "spawn")
        super().__init__(dataset, batch_size=None, **kwargs)
        self.count_batches = True

    def __iter__(self):
        ds = self.dataset
        # Who counts the batches consumed: the dataset itself when it runs in this process,
        # else this loader (or, with count_batches off, a trainer's hook: see lightning.py).
        ds._counts_own_steps = self.count_batches and self.num_workers == 0
        if self.num_workers > 0:
            _, world = _rank_world(ds._dist)
            ds._begin_pass(world * self.num_workers, world)
        it = super().__iter__()  # the workers have their copies, with any loaded state
        if self.num_workers > 0:
            ds._resume = None
        return self._counted(it) if self.count_batches and self.num_workers > 0 else it

    def _counted(self, it):
        for batch in it:
            self.dataset._count_step()
            yield batch

    def state_dict(self) -> dict:
        return self.dataset.state_dict()

    def load_state_dict(self, state: dict):
        self.dataset.load_state_dict(state)



def _arrays(batch: pa.RecordBatch, densify: bool = False) -> list:
    """(name, kind, parts) per column: the numpy arrays (often read-only views of the Arrow
    buffers) its tensor is made of, with the tensor's dtype. ``densify``: csr columns become
    dense tensors (kind "scatter": their rows scattered into a zeroed matrix)."""
    parts = []
    for field, column in zip(batch.schema, batch.columns):
        name = field.name
        if pa.types.is_fixed_size_list(column.type):
            x = nan_matrix(name, column)
            parts.append((name, "dense", (x, x.dtype)))
        elif pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type):
            indptr, indices, values = csr_parts(column)
            width = n_cols(field, column)
            if densify:
                null_rows = csr_null_rows(name, column, values.dtype)
                parts.append((name, "scatter", (indptr, indices, values, width, null_rows)))
            else:
                parts.append((name, "csr", (indptr, indices, values, width)))
        elif pa.types.is_dictionary(column.type):
            codes = label_codes(column)
            parts.append((name, "dense", (codes, np.dtype(np.int64))))
        elif pa.types.is_integer(column.type):
            parts.append((name, "dense", (column.to_numpy(zero_copy_only=False),
                                          np.dtype(np.int64))))
        elif pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
            a = column.to_numpy(zero_copy_only=False)
            parts.append((name, "dense", (a, a.dtype)))
        else:
            raise TypeError(f"column {name!r} of type {column.type} has no tensor form here;"
                            " request it encoded (encode_labels) or leave it out")
    return parts


def _layout(pieces: list, n_rows: int, index_dtype=np.dtype(np.int64)) -> list:
    """(key, dtype, shape) of each tensor of a minibatch of ``n_rows`` rows made of
    ``pieces`` (each message's ``_arrays``), keyed by (column, part); CSR tensors' indices of
    ``index_dtype``."""
    layout = []
    for c, (name, kind, p) in enumerate(pieces[0]):
        if kind == "dense":
            layout.append(((name, 0), p[1], (n_rows,) + p[0].shape[1:]))
        elif kind == "scatter":
            width = max(piece[c][2][3] for piece in pieces)  # pieces without metadata differ
            layout.append(((name, 0), p[2].dtype, (n_rows, width)))
        else:
            nnz = sum(len(piece[c][2][1]) for piece in pieces)
            if nnz > np.iinfo(index_dtype).max:
                raise ValueError(f"a minibatch of column {name!r} holds {nnz} stored values,"
                                 f" more than {index_dtype} indices address; use"
                                 " index_dtype=torch.int64 or smaller batches")
            layout += [((name, 0), index_dtype, (n_rows + 1,)),
                       ((name, 1), index_dtype, (nnz,)),
                       ((name, 2), p[2].dtype, (nnz,))]
    return layout


def _tensors(batches, shared: bool = False, densify: bool = False,
             index_dtype: torch.dtype = torch.int64) -> Dict[str, torch.Tensor]:
    """The minibatch's tensors from its record batch, or the consecutive slices of messages
    (a list) it spans: each filled by one bulk copy per piece (csr columns with ``densify``:
    zeroed once, then each piece's values scattered into its rows). ``shared`` (in a
    DataLoader worker): all of them are views of one slot of this worker's ring of shared
    memory (``_SharedRing``), reused once the main process has dropped the batch: a new block
    of shared memory per batch costs more than the copy (new pages zeroed and faulted in, in
    both processes), and tensors of their own would each be handed over apart."""
    if isinstance(batches, pa.RecordBatch):
        batches = [batches]
    pieces = [_arrays(b, densify) for b in batches]
    n_rows = sum(b.num_rows for b in batches)
    layout = _layout(pieces, n_rows,
                     np.dtype(np.int32 if index_dtype == torch.int32 else np.int64))
    views = {}
    sizes = [int(np.prod(shape)) * np.dtype(dtype).itemsize for _, dtype, shape in layout]
    if shared:
        offsets = list(itertools.accumulate((-(-n // 8) * 8 for n in sizes), initial=0))
        block = _SharedRing.of_this_process().block(offsets[-1])  # 8-byte aligned tensors
        for (key, dtype, shape), off, nbytes in zip(layout, offsets, sizes):
            views[key] = block[off:off + nbytes].view(_torch_dtype(dtype)).view(shape)
    else:
        # In this process small tensors (labels, row numbers) have memory of their own, so
        # that a kept one does not keep the batch's X; the large ones share a slot of this
        # process's ring, free again once the consumer has dropped them: fresh memory of
        # that size is new pages, zeroed by the kernel and faulted in, for every batch.
        large = [n > _COPIED_UP_TO for n in sizes]
        offsets = list(itertools.accumulate((-(-n // 8) * 8 if big else 0
                                             for n, big in zip(sizes, large)), initial=0))
        whole = _SharedRing.local().block_array(offsets[-1]) if any(large) else None
        for (key, dtype, shape), off, nbytes, big in zip(layout, offsets, sizes, large):
            views[key] = (torch.from_numpy(whole[off:off + nbytes]).view(_torch_dtype(dtype))
                          .view(shape) if big else torch.empty(shape, dtype=_torch_dtype(dtype)))
    out = _SharedBatch() if shared else {}
    for c, (name, kind, _) in enumerate(pieces[0]):
        column = [piece[c][2] for piece in pieces]
        if kind == "dense":
            x = views[(name, 0)].numpy()
            row = 0
            for a, _ in column:
                np.copyto(x[row:row + len(a)], a, casting="unsafe")
                row += len(a)
            out[name] = views[(name, 0)]
        elif kind == "scatter":
            x = views[(name, 0)].numpy()
            row = 0
            for indptr, indices, values, _, null_rows in column:
                n = len(indptr) - 1
                # The only zeroing of these rows, run by run just before their entries land
                # (zeroing the whole tensor first goes through its memory twice).
                scatter_rows(x[row:row + n], indptr, indices, values, null_rows, zero=True)
                row += n
            out[name] = views[(name, 0)]
        else:
            crow, col, val = (views[(name, i)].numpy() for i in range(3))
            row = entry = 0
            for indptr, indices, values, _ in column:
                n, nnz = len(indptr) - 1, len(indices)
                np.add(indptr, entry, out=crow[row:row + n + 1], casting="unsafe")
                np.copyto(col[entry:entry + nnz], indices, casting="unsafe")
                np.copyto(val[entry:entry + nnz], values)
                row, entry = row + n, entry + nnz
            out[name] = torch.sparse_csr_tensor(views[(name, 0)], views[(name, 1)],
                                                views[(name, 2)],
                                                size=(n_rows, max(p[3] for p in column)),
                                                check_invariants=False)
    return out


def _torch_dtype(dtype) -> torch.dtype:
    return torch.from_numpy(np.empty(0, dtype)).dtype


# A ring slot is one shared storage: a header of 8-byte words (its state, in use or free; and
# whether the main process holds the storage already), then the batch.
_SLOT_HEADER = 64
_SLOT_FREE, _SLOT_IN_USE = 0, 1
_STATE, _HELD = 0, 1
_COPIED_UP_TO = 64 * 1024
_SLOT_ROUNDING = 1 << 20


class _SharedRing:
    """A DataLoader worker's reusable blocks of shared memory (or, ``local()``, the training
    process's own blocks when it builds the batches itself). A slot is in use from the
    moment a batch is built in it until the main process has dropped every tensor of that
    batch, which then marks it free in the slot's own header (``_rebuild_shared``); the
    worker builds the next batch in a free slot or makes a new one. At most ``_MAX_SLOTS``
    (4 in the training process's own ring) are kept: beyond that the oldest slot in use is forgotten (never reused), so a consumer
    that keeps batches, or hands them on in a form that never releases them, costs memory as
    without the ring and never sees a batch overwritten."""

    _MAX_SLOTS = 16
    _this_process: Optional["_SharedRing"] = None
    _local: Optional["_SharedRing"] = None

    @classmethod
    def of_this_process(cls) -> "_SharedRing":
        if cls._this_process is None:
            cls._this_process = cls()
        return cls._this_process

    @classmethod
    def local(cls) -> "_SharedRing":
        """The ring of batches built and consumed in this process (no DataLoader workers):
        slots of private memory, each free again when its batch's tensors are gone."""
        if cls._local is None:
            # Few slots: a training loop holds one or two batches, and a consumer that keeps
            # more (list(dataset)) should not leave this process holding all their memory.
            cls._local = cls(shared=False, max_slots=4)
        return cls._local

    def __init__(self, shared: bool = True, max_slots: Optional[int] = None):
        self.shared = shared
        self._max_slots = max_slots or self._MAX_SLOTS
        self.token = f"{os.getpid()}-{secrets.token_hex(8)}"
        self._slots = []  # uint8 tensors over whole shared storages
        self._by_address = {}  # data address -> (slot, its id in this ring)
        self._next_id = 0
        self._forgotten = []  # ids the main process may drop, sent with the next batch
        self._lock = threading.Lock()

    def block(self, nbytes: int) -> torch.Tensor:
        """A view of ``nbytes`` after a free slot's header, the slot now marked in use."""
        return self._take(nbytes)[_SLOT_HEADER:_SLOT_HEADER + nbytes]

    def _take(self, nbytes: int) -> torch.Tensor:
        """A free slot of at least ``nbytes`` after its header, now marked in use."""
        slot = next((s for s in self._slots
                     if s.numel() >= _SLOT_HEADER + nbytes
                     and _header(s)[_STATE] == _SLOT_FREE),
                    None)
        if slot is None:
            # With room to spare: sparse minibatches differ in size, and a slot made for each
            # one larger than the free slots costs new shared memory and its hand-over.
            room = -(-nbytes * 5 // 4 // _SLOT_ROUNDING) * _SLOT_ROUNDING
            slot = torch.zeros(_SLOT_HEADER + max(room, 1), dtype=torch.uint8)
            if self.shared:
                slot.share_memory_()
            if len(self._slots) >= self._max_slots:
                free = [s for s in self._slots if _header(s)[_STATE] == _SLOT_FREE]
                self._forget(free[0] if free else self._slots[0])
            self._slots.append(slot)
            self._by_address[slot.data_ptr()] = (slot, self._next_id)
            self._next_id += 1
        _header(slot)[_STATE] = _SLOT_IN_USE
        return slot

    def block_array(self, nbytes: int) -> np.ndarray:
        """``block(nbytes)`` as a numpy array whose end (with every view of it, such as the
        tensors made from it) marks the slot free."""
        slot = self._take(nbytes)
        whole = slot[_SLOT_HEADER:_SLOT_HEADER + nbytes].numpy()
        weakref.finalize(whole, _mark_free, slot)
        return whole

    def _forget(self, slot: torch.Tensor):
        # By identity: list.remove would compare tensors element-wise.
        self._slots = [s for s in self._slots if s is not slot]
        _, slot_id = self._by_address.pop(slot.data_ptr())
        if self.shared:  # the main process drops it too
            with self._lock:
                self._forgotten.append(slot_id)

    def slot_of(self, storage: torch.UntypedStorage) -> Optional[tuple]:
        """(slot, id) of the slot ``storage`` is, or None."""
        return self._by_address.get(storage.data_ptr())

    def take_forgotten(self) -> list:
        with self._lock:
            ids, self._forgotten = self._forgotten, []
        return ids


def _header(slot: torch.Tensor) -> np.ndarray:
    return slot[:16].numpy().view(np.int64)


def _components(v) -> tuple:
    """The dense tensors a batch value is made of: a sparse CSR tensor's three, else itself."""
    if torch.is_tensor(v) and v.layout == torch.sparse_csr:
        return v.crow_indices(), v.col_indices(), v.values()
    return (v,)


def _tensor_spec(t: torch.Tensor, base: int) -> tuple:
    """Where a contiguous view lies in its slot: (byte offset, byte length, dtype, shape)."""
    return (t.data_ptr() - base, t.numel() * t.element_size(), t.dtype, tuple(t.shape))


class _SharedBatch(dict):
    """A minibatch built in a slot of a worker's ``_SharedRing``. Pickled (to the main
    process) as the slot's storage and where each tensor lies in it; torch hands the storage
    over as shared memory, and the main process's tensors mark the slot free when the last of
    them is gone. A batch whose tensors are not all views of one slot (a collate function
    that replaced some) is pickled as a plain dict, and its slot is never reused."""

    # copy.copy (DataLoader's default_convert copies a mapping) must not go through
    # __reduce__, which is for the hand-over alone.
    def __copy__(self):
        return _SharedBatch(self)

    def __deepcopy__(self, memo):
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self):
        ring = _SharedRing._this_process
        tensors = [t for v in self.values() for t in _components(v)]
        storages = {t.untyped_storage().data_ptr() for t in tensors if torch.is_tensor(t)}
        found = (ring.slot_of(tensors[0].untyped_storage())
                 if ring is not None and tensors and len(storages) == 1
                 and all(torch.is_tensor(t) and t.is_contiguous() for t in tensors) else None)
        if found is None:
            return dict, (dict(self),)
        slot, slot_id = found
        base = slot.data_ptr()
        layout = {}
        for name, v in self.items():
            if v.layout == torch.sparse_csr:
                layout[name] = ("csr", tuple(v.shape),
                                [_tensor_spec(t, base) for t in _components(v)])
            else:
                layout[name] = ("dense", _tensor_spec(v, base))
        # The storage goes once per slot (torch hands it over as a file descriptor, a round
        # trip to this worker); once the main process holds it, it says so in the header.
        held = _header(slot)[_HELD] == 1
        return _rebuild_shared, (ring.token, slot_id, None if held else slot, layout,
                                 ring.take_forgotten())


def _mark_free(slot: torch.Tensor):
    _header(slot)[_STATE] = _SLOT_FREE


# In the main process: per worker ring (its token), the slots it has handed over, by id.
_RECEIVED: Dict[str, Dict[int, torch.Tensor]] = {}


def _worker_alive(token: str) -> bool:
    try:
        os.kill(int(token.split("-", 1)[0]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        pass
    return True


def _received_slot(token: str, slot_id: int, slot: Optional[torch.Tensor],
                   forgotten: list) -> torch.Tensor:
    slots = _RECEIVED.get(token)
    if slots is None:
        for gone in [t for t in _RECEIVED if not _worker_alive(t)]:
            del _RECEIVED[gone]  # a worker that ended sends no more
        slots = _RECEIVED[token] = {}
    for i in forgotten:  # slots the worker will not reuse
        slots.pop(i, None)
    if slot is not None:
        slots[slot_id] = slot
        _header(slot)[_HELD] = 1
    return slots[slot_id]


def _rebuild_shared(token: str, slot_id: int, slot: Optional[torch.Tensor], layout: dict,
                    forgotten: list) -> Dict[str, torch.Tensor]:
    """In the main process: the batch's tensors over the shared slot (handed over with its
    first batch, kept for the later ones). They hold one numpy array over the slot; when it
    goes (with the last tensor), the slot is marked free. Small tensors (labels, row numbers)
    are copied out, so that keeping them (for metrics, say) does not keep the whole slot."""
    slot = _received_slot(token, slot_id, slot, forgotten)
    whole = slot.numpy()
    weakref.finalize(whole, _mark_free, slot)

    def view(spec):
        offset, nbytes, dtype, shape = spec
        data = whole[offset:offset + nbytes]
        if nbytes <= _COPIED_UP_TO:
            data = data.copy()
        return torch.from_numpy(data).view(dtype).view(shape)

    out = {}
    for name, entry in layout.items():
        if entry[0] == "csr":
            crow, col, values = (view(s) for s in entry[2])
            out[name] = torch.sparse_csr_tensor(crow, col, values, size=entry[1],
                                                check_invariants=False)
        else:
            out[name] = view(entry[1])
    return out


def global_state(state) -> dict:
    """The dataset state (epoch, seed, global positions) in any state that holds some, e.g.
    torchdata's ``StatefulDataLoader.state_dict()`` with a state per worker: the furthest of
    them, which every worker's batches consumed up to then. Load it into a dataset on any
    number of ranks and workers."""
    found = []

    def walk(v):
        if isinstance(v, dict):
            if {"epoch", "seed", "positions"} <= v.keys():
                found.append(v)
            for child in v.values():
                walk(child)
        elif isinstance(v, (list, tuple)):
            for child in v:
                walk(child)

    walk(state)
    if not found:
        raise ValueError("no annflight dataset state (epoch, seed, positions) in this state")
    best = max(found, key=lambda v: v["positions"])
    return {"epoch": best["epoch"], "seed": best["seed"], "positions": best["positions"]}


def _rank_world(ranks=None) -> tuple:
    rank, world = ranks if ranks is not None else (0, 1)
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return rank, world


def _world(ranks=None) -> int:
    return _rank_world(ranks)[1]


def shard_of_this_process(ranks=None):
    """(this process's part, number of parts) over distributed ranks x DataLoader workers;
    ``ranks`` is (rank, world) where this process has no process group (a spawned worker).
    A rank's workers take parts ``world`` apart (worker-major), so where endpoints are spread
    over replicas in contiguous runs, each rank's workers read from different replicas."""
    rank, world = _rank_world(ranks)
    worker = get_worker_info()
    worker_id, n_workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
    return worker_id * world + rank, world * n_workers
