"""The annflight client: requests are plain dicts with the server's keys (see the server's
README); answers are pyarrow tables, readers, numpy arrays and Python values."""
import atexit
import collections
import json
import logging
import os
import queue
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

from . import shm
from .arrow import DenseRing, batch_arrays
from .target import resolve
from .errors import AnnflightError, Unavailable, _server_message, translate

# Aligned buffers: numpy, torch and DuckDB views of large batches without realignment copies.
_READ_OPTIONS = pa.ipc.IpcReadOptions(ensure_alignment=pa.ipc.Alignment.DataTypeSpecific)
PROGRESS_MIN_ROWS = 100_000  # reads of fewer rows show no progress bar
# What a message (record batch) of the package's datasets holds, in bytes: the server fits as
# many rows as the stores' real row sizes allow (sparse rows by their non-zeros), so any width
# works with the defaults.
MESSAGE_BYTES = 32 << 20


def sized_by_bytes(request: dict, message_bytes: int = MESSAGE_BYTES) -> dict:
    """``request`` asking for messages of about ``message_bytes``, unless it sizes its
    batches itself (``rows_per_batch`` or ``bytes_per_batch``)."""
    if "rows_per_batch" in request or "bytes_per_batch" in request:
        return request
    return {**request, "bytes_per_batch": message_bytes}


@contextmanager
def _server_errors():
    try:
        yield
    except (pa.ArrowException, fl.FlightError, KeyError) as e:
        raise translate(e) from e


_LOG = logging.getLogger("annflight")
# What makes a reader try an endpoint's next location: the server unreachable or gone mid-read.
_FAILOVER = (fl.FlightUnavailableError, fl.FlightTimedOutError, pa.ArrowIOError)


def auth_headers(token: Optional[str]) -> list:
    """The call headers that carry a bearer token (none without one)."""
    return [] if token is None else [(b"authorization", f"Bearer {token}".encode())]


def connect_args(tls_root_certs: Optional[bytes]) -> dict:
    """``fl.connect`` arguments verifying the server with its own CA (none by default)."""
    return {} if tls_root_certs is None else {"tls_root_certs": tls_root_certs}


def endpoint_locations(endpoint: fl.FlightEndpoint, default: str) -> List[str]:
    """The URIs to try for an endpoint, in order: its locations (the replica assigned first,
    then the alternates), or ``default`` (the server that answered) when it lists none."""
    return [l.uri.decode() for l in endpoint.locations] or [default]


def endpoint_batches(locations: List[str], ticket: dict, options: fl.FlightCallOptions,
                     connect_kwargs: Optional[dict] = None,
                     shared=None) -> Iterator[pa.RecordBatch]:
    """A ticket's record batches, read from the first of ``locations`` that serves it: when a
    location is unreachable or fails mid-stream, the next one continues after the rows
    already yielded (tickets name rows, so any replica serves any part of one). ``shared``
    (an ``annflight.shm.Reader`` with the same headers and read options as ``options``):
    through shared memory from a server on this host.

    Raises :class:`Unavailable` listing every location's failure when none could finish."""
    connect_kwargs = connect_kwargs or {}
    delivered, failures = 0, []
    for uri in locations:
        resumed = _resumed(ticket, delivered)
        try:
            with fl.connect(uri, **connect_kwargs) as client:
                ticket_bytes = json.dumps(resumed).encode()
                if shared is not None and shared.asks(uri):
                    batches = shared.batches(client, ticket_bytes, uri)
                else:
                    batches = (c.data for c in client.do_get(fl.Ticket(ticket_bytes), options))
                for batch in batches:
                    delivered += batch.num_rows
                    yield batch
            return
        except _FAILOVER as e:
            failures.append(f"{uri}: {_server_message(e)}")
            _LOG.warning("annflight: %s failed after %d rows of the endpoint (%s); trying the"
                         " next location", uri, delivered, _server_message(e))
        except (pa.ArrowException, fl.FlightError) as e:
            raise translate(e) from e
    raise Unavailable("no location could serve the endpoint: " + "; ".join(failures))


def _resumed(ticket: dict, delivered: int) -> dict:
    """The ticket for its rows after the first ``delivered``."""
    if not delivered:
        return ticket
    if "indices" in ticket:
        return {**ticket, "indices": ticket["indices"][delivered:]}
    return {**ticket, "start": ticket["start"] + delivered}


# Batches an endpoint streaming ahead of the reader may hold before it waits for the reader.
AHEAD_BATCHES = 2


def streamed_ahead(endpoints: list, read, parallel: int,
                   ahead: Optional[int] = AHEAD_BATCHES) -> Iterator[pa.RecordBatch]:
    """The batches ``read(endpoint)`` yields for each endpoint, in order: up to ``parallel``
    endpoints are read at once on threads, each into a queue of ``ahead`` batches, so what
    is held ahead of the caller is bounded by batches, not by endpoints (``None``: whole
    endpoints, for a caller that keeps everything anyway). A failure is raised when the
    caller reaches it; closing the generator ends every read (each thread's read is closed,
    which ends its call)."""
    stop = threading.Event()
    pool = ThreadPoolExecutor(max(1, parallel), thread_name_prefix="annflight-ahead")
    pending = collections.deque()
    upcoming = iter(endpoints)
    try:
        for endpoint in upcoming:
            pending.append(_EndpointFeed(pool, read, endpoint, stop, ahead))
            if len(pending) >= parallel:
                break
        while pending:
            yield from pending[0].items()
            pending.popleft()
            endpoint = next(upcoming, None)
            if endpoint is not None:
                pending.append(_EndpointFeed(pool, read, endpoint, stop, ahead))
    finally:
        stop.set()  # each thread sees it at its next batch, or while it waits for room
        pool.shutdown(wait=False, cancel_futures=True)


class _EndpointFeed:
    """One endpoint's batches, read on a pool thread into a bounded queue."""

    _END = object()
    _POLL_S = 0.1  # how soon a thread waiting for room sees that the reader stopped

    def __init__(self, pool: ThreadPoolExecutor, read, endpoint, stop: threading.Event,
                 ahead: Optional[int]):
        self._queue = queue.Queue(maxsize=ahead or 0)  # 0: unbounded
        self._stop = stop
        pool.submit(self._run, read, endpoint)

    def _run(self, read, endpoint):
        if self._stop.is_set():
            return
        batches = None
        try:
            batches = read(endpoint)
            for batch in batches:
                if not self._put(batch):
                    return
            self._put(self._END)
        except BaseException as e:  # the reader raises it when it gets there
            self._put(e)
        finally:
            if batches is not None and hasattr(batches, "close"):
                batches.close()  # ends the call when the reader stopped early

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=self._POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def items(self) -> Iterator[pa.RecordBatch]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


def sign_in(uri: str, user: str, password: str, *,
            tls_root_certs: Optional[bytes] = None) -> str:
    """Signs in with Flight's basic handshake and returns the bearer token the server issues.

    For users of the server's ``--auth-tokens`` file (its ``users`` list); pass the token as
    ``token=`` to :func:`connect`, the torch dataset, ``MappedCollection`` or the Lightning
    data module. It lives for the file's ``issued_token_seconds`` (a day by default).
    """
    with _server_errors():
        flight = fl.connect(uri, **connect_args(tls_root_certs))
        try:
            _, value = flight.authenticate_basic_token(user, password)
        finally:
            flight.close()
    value = value.decode() if isinstance(value, bytes) else value
    if not value.lower().startswith("bearer "):
        raise AnnflightError(f"the server at {uri} answered the sign-in without a bearer token")
    return value[len("bearer "):]


def connect(uri: Optional[str] = None, *, token: Optional[str] = None,
            tls_root_certs: Optional[bytes] = None, parallel: int = 4) -> "Client":
    """A client of the server at ``uri`` (``grpc+tcp://host:port``, ``grpc+tls://...``);
    without it, of ``ANNFLIGHT_URI``, else of the package's local server, whose request
    ``paths`` are local paths (see :mod:`annflight.target`).

    ``token`` is sent as ``authorization: Bearer <token>`` on every call; ``tls_root_certs``
    (PEM bytes) verifies a server with its own CA; ``parallel`` is how many endpoints are
    fetched at once.
    """
    return Client(uri, token=token, tls_root_certs=tls_root_certs, parallel=parallel)


class Client:
    """One connection per thread that fetches; safe to share across threads."""

    def __init__(self, uri: Optional[str] = None, *, token=None, tls_root_certs=None,
                 parallel: int = 4):
        self.target = resolve(uri, token)
        self.uri = uri = self.target.uri
        self._connect_args = connect_args(tls_root_certs)
        self._options = fl.FlightCallOptions(headers=auth_headers(self.target.token),
                                             read_options=_READ_OPTIONS)
        self._parallel = max(1, parallel)
        self._channel: Optional[fl.FlightClient] = None
        # Dense matrices scattered from CSR rows, in memory kept across calls: each epoch
        # through fresh memory would cost its pages again. Two slots serve a loop that holds
        # a batch while the next is built; a caller who keeps more gets memory of its own.
        self._ring = DenseRing(max_slots=2)
        # numpy_batches' choice of wire per request: an epoch loop asks again each epoch, and
        # a describe per epoch is a round trip. A stale choice costs speed, never values.
        self._sparse_wire: Dict[str, bool] = {}
        self._flight  # connect now: a wrong address fails here, not at the first read
        _OPEN_CLIENTS.add(self)

    @property
    def _flight(self) -> fl.FlightClient:
        if self._channel is None:
            with _server_errors():
                self._channel = fl.connect(self.uri, **self._connect_args)
        return self._channel

    def _disconnect(self) -> bool:
        """Closes the channel (the next call reconnects); whether there was one."""
        if self._channel is None:
            return False
        self._channel.close()
        self._channel = None
        return True

    def close(self):
        self._disconnect()
        _OPEN_CLIENTS.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ discovery

    def collections(self) -> List[str]:
        """The names of the collections the server is configured with."""
        with _server_errors():
            return [info.descriptor.path[0].decode() for info in self._flight.list_flights(
                options=self._options)]

    def info(self, request: dict) -> fl.FlightInfo:
        """The FlightInfo of a request: schema, total_records, endpoints in order."""
        with _server_errors():
            return self._flight.get_flight_info(self._descriptor(request), self._options)

    def schema(self, request: dict) -> pa.Schema:
        with _server_errors():
            return self._flight.get_schema(self._descriptor(request), self._options).schema

    def describe(self, request: dict) -> dict:
        return self._json_action("describe", request)

    # ------------------------------------------------------------------ data

    def read(self, request: dict, *, progress: Optional[bool] = None) -> pa.Table:
        """The whole request as one table, endpoints fetched in parallel and kept in order.

        ``progress``: a tqdm bar over rows; ``None`` shows it for reads of at least
        ``PROGRESS_MIN_ROWS`` rows when the output is a terminal, ``False`` never.
        """
        info = self.info(request)
        bar = _progress(info.total_records, progress)
        try:
            batches = []
            for batch in streamed_ahead(info.endpoints, self._endpoint_batches, self._parallel,
                                        ahead=None):
                batches.append(batch)
                if bar is not None:
                    bar.update(batch.num_rows)
            return pa.Table.from_batches(batches, schema=info.schema)
        finally:
            if bar is not None:
                bar.close()

    def batches(self, request: dict) -> pa.RecordBatchReader:
        """A reader of the request's batches in order. Up to ``parallel`` endpoints stream
        at once, each at most ``AHEAD_BATCHES`` batches ahead of the reader, so the reader
        holds a few batches whatever the request's size (wide dense rows make batches of
        tens of MiB, and an endpoint holds up to 100,000 rows)."""
        info = self.info(request)
        return pa.RecordBatchReader.from_batches(
            info.schema, streamed_ahead(info.endpoints, self._endpoint_batches, self._parallel))

    def numpy_batches(self, request: dict, *, transport: str = "auto",
                      shared_memory: Union[str, bool] = "auto"
                      ) -> Iterator[Dict[str, np.ndarray]]:
        """The request's batches in order, each a dict of numpy arrays by column: ``X``,
        layers and obsm keys as 2-D arrays, labels as integer codes (-1: no label), other
        columns as arrays (see :func:`annflight.arrow.batch_arrays`). Endpoints are read one
        after another, each batch by batch as it arrives (each from the endpoint's replica,
        or its next location when that fails): unlike :meth:`batches`, which holds whole
        endpoints fetched ahead, only the batch being built is held beside the caller's.

        ``transport``: how the dense matrices travel. ``"auto"`` (default) sends them as
        their non-zero entries (``matrix_format: "csr"``, uncompressed) when every store
        holding a requested matrix stores it sparse, and scatters each batch into a dense
        array on arrival: a few non-zeros per row cost the server, the wire and this process
        far less than dense rows; dense stores go dense with ``"lz4"``. ``"csr"`` or
        ``"dense"`` force one way; the arrays are the same either way. A ``compression`` in
        the request is kept.

        Matrices scattered from CSR rows are built in memory the client reuses once the
        caller has dropped a batch (every view of it); dense ones are read-only views of the
        received buffers. Keep a batch as long as needed: nothing kept is overwritten.

        ``shared_memory``: whether batches come from a server on this host through a ring of
        shared memory instead of gRPC (docs/reference/shared-memory.md): ``"auto"`` (default)
        when the server's address is loopback (the package's own local server is) and the
        server agrees, ``True`` wherever it agrees, ``False`` never. Arrays that would view
        the ring are copies, so a kept batch never holds it.
        """
        if transport not in ("auto", "csr", "dense"):
            raise ValueError(f"transport must be 'auto', 'csr' or 'dense', got {transport!r}")
        if request.get("matrix_format", "dense") != "dense":
            raise ValueError("numpy_batches gives dense matrices; for CSR rows read batches()"
                             " with matrix_format 'csr' (annflight.arrow.csr_matrix)")
        csr = transport == "csr" or (transport == "auto" and self._stores_sparse(request))
        wire = {**request, "matrix_format": "csr"} if csr else dict(request)
        # LZ4 pays on dense rows; CSR rows hardly compress and cost its time twice.
        wire.setdefault("compression", "none" if csr else "lz4")
        shared = shm.Reader(shared_memory, auth_headers(self.target.token), _READ_OPTIONS,
                            slot_bytes=shm.slot_bytes_for(wire.get("bytes_per_batch")))
        try:
            for endpoint in self.info(wire).endpoints:
                for batch in self._endpoint_batches(endpoint, shared):
                    arrays = {k: shm.owned(a) for k, a in batch_arrays(batch, self._ring).items()}
                    del batch  # its slot is free once no array views it
                    yield arrays
        finally:
            shared.close()

    def _stores_sparse(self, request: dict) -> bool:
        """stores_sparse for the request's stores, asked once per request per client."""
        key = json.dumps(request, sort_keys=True)
        sparse = self._sparse_wire.get(key)
        if sparse is None:
            sparse = stores_sparse(self.describe(request))
            if len(self._sparse_wire) >= 64:
                self._sparse_wire.clear()
            self._sparse_wire[key] = sparse
        return sparse

    def to_polars(self, request: dict, *, progress: Optional[bool] = None):
        """The request as a polars DataFrame (X as an Array column, labels Categorical)."""
        import polars as pl

        return pl.from_arrow(self.read(request, progress=progress))

    def to_duckdb(self, request: dict, con=None):
        """A DuckDB relation over the request's stream (read once when queried)."""
        import duckdb

        con = con if con is not None else duckdb.connect()
        return con.from_arrow(self.batches(request))

    def do_get(self, ticket: Union[fl.Ticket, bytes, dict]) -> pa.Table:
        """One ticket's rows: a FlightEndpoint's ticket, its bytes, or a ticket as a dict
        (``{"request": {...}, "start": p, "stop": q}`` or ``"indices": [...]``)."""
        if isinstance(ticket, dict):
            if "request" in ticket:
                ticket = {**ticket, "request": self.target.localise(ticket["request"])}
            ticket = fl.Ticket(json.dumps(ticket).encode())
        elif isinstance(ticket, bytes):
            ticket = fl.Ticket(ticket)
        with _server_errors():
            return self._flight.do_get(ticket, self._options).read_all()

    def _endpoint_batches(self, endpoint: fl.FlightEndpoint,
                          shared=None) -> Iterator[pa.RecordBatch]:
        """An endpoint's batches from its replica or, when that fails, from the next of its
        locations (``shared``: an ``annflight.shm.Reader``, see ``endpoint_batches``)."""
        return endpoint_batches(endpoint_locations(endpoint, self.uri),
                                json.loads(endpoint.ticket.ticket), self._options,
                                self._connect_args, shared)

    # ------------------------------------------------------------------ actions

    def shape(self, request: dict) -> tuple:
        return tuple(self._json_action("shape", request))

    def original_shapes(self, request: dict) -> List[tuple]:
        return [tuple(s) for s in self._json_action("original_shapes", request)]

    def var_joint(self, request: dict) -> Optional[List[str]]:
        return self._json_action("var_joint", request)

    def check_vars_sorted(self, request: dict, ascending: bool = True) -> bool:
        return self._json_action("check_vars_sorted", request, ascending=ascending)

    def check_vars_non_aligned(self, request: dict, vars: List[str]) -> List[int]:
        return self._json_action("check_vars_non_aligned", request, vars=list(vars))

    def get_merged_categories(self, request: dict, label_key: str) -> list:
        return self._json_action("get_merged_categories", request, label_key=label_key)

    def get_merged_labels(self, request: dict, label_key: str) -> np.ndarray:
        table = self._ipc_action("get_merged_labels", request, label_key=label_key)
        # Through a dictionary: one Python object per distinct label, not one per row.
        column = table[label_key].combine_chunks().dictionary_encode()
        values = np.empty(len(column.dictionary) + 1, dtype=object)
        values[:-1] = column.dictionary.to_pylist()
        values[-1] = None
        return values[column.indices.fill_null(len(values) - 1).to_numpy()]

    def get_label_weights(self, request: dict, obs_keys: Union[str, List[str]],
                          scaler: Optional[float] = None, return_categories: bool = False):
        """Per-row weights (numpy float64) as lamindb computes them; with
        ``return_categories`` a dict {label: weight}."""
        args = {"obs_keys": obs_keys, "scaler": scaler, "return_categories": return_categories}
        if return_categories:
            return self._json_action("get_label_weights", request, **args)
        # A writable copy: torch samplers take it as a tensor.
        return np.array(self._ipc_action("get_label_weights", request, **args)["weight"])

    def server_status(self) -> dict:
        """Arrow memory and streams of the server right now."""
        return json.loads(self._action("server_status", b"{}"))

    def _json_action(self, name: str, request: dict, **args):
        return json.loads(self._action(name, _body(self.target.localise(request), args)))

    def _ipc_action(self, name: str, request: dict, **args) -> pa.Table:
        # A per-row answer comes as one IPC stream cut into several results: join them.
        with _server_errors():
            pieces = [r.body for r in self._flight.do_action(
                fl.Action(name, _body(self.target.localise(request), args)), self._options)]
        if len(pieces) == 1:
            return pa.ipc.open_stream(pieces[0]).read_all()
        sink = pa.BufferOutputStream()
        for piece in pieces:
            sink.write(piece)
        return pa.ipc.open_stream(sink.getvalue()).read_all()

    def _descriptor(self, request: dict) -> fl.FlightDescriptor:
        return _descriptor(self.target.localise(request) if isinstance(request, dict)
                           else request)

    def _action(self, name: str, body: bytes) -> bytes:
        with _server_errors():
            results = list(self._flight.do_action(fl.Action(name, body), self._options))
        return results[0].body.to_pybytes()


# gRPC cannot be used in a forked child while the parent holds a channel (the child's first
# call hangs), nor while the parent's gRPC is shutting down (its shutdown thread holds the
# lock the child's grpc_init takes). So before a fork (a DataLoader starting its workers) every
# client closes its channel, and the fork waits, at most FORK_WAIT_S, until gRPC's threads have
# ended; clients reconnect on their next call, in the parent and in the child alike. A
# pyarrow.flight client of the caller's own that is still open keeps gRPC alive: its forked
# children hang, as they would without this package.
_OPEN_CLIENTS: "weakref.WeakSet[Client]" = weakref.WeakSet()
FORK_WAIT_S = 2.0
_GRPC_THREADS = ("grpc", "event_engine", "lifeguard")


def _grpc_threads() -> List[str]:
    names = []
    try:
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/comm") as f:
                    name = f.read().strip()
            except OSError:  # the thread ended meanwhile
                continue
            if name.startswith(_GRPC_THREADS):
                names.append(name)
    except OSError:  # no /proc: nothing to wait for
        pass
    return names


def _disconnect_before_fork():
    closed = 0
    for client in list(_OPEN_CLIENTS):
        closed += client._disconnect()
    for _ in range(int(FORK_WAIT_S / 0.002)):
        threads = _grpc_threads()
        if not threads or (not closed and "grpc_shutdown" not in threads):
            return
        time.sleep(0.002)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_disconnect_before_fork)
# At exit too: a Flight client the interpreter's teardown destroys while gRPC's threads still
# run aborted the process now and then ("terminate called without an active exception"; seen in
# spawned DataLoader workers of MappedCollection, which exit through the interpreter's teardown).
atexit.register(_disconnect_before_fork)


def stores_sparse(described: dict) -> bool:
    """Whether every store holding a requested matrix stores it sparse (CSR or CSC), from
    a ``describe`` answer; False when none holds one."""
    layouts = [v for store in described["stores"]
               for v in store.get("matrix_layouts", {}).values() if v is not None]
    return bool(layouts) and all(v in ("csr", "csc") for v in layouts)


def described_sparse(flight: fl.FlightClient, options: fl.FlightCallOptions,
                     request: dict) -> bool:
    """stores_sparse of the server's ``describe`` answer for ``request`` (localised), over an
    open FlightClient (a torch dataset's, which holds no Client)."""
    answer = next(iter(flight.do_action(fl.Action("describe", _body(request, {})), options)))
    return stores_sparse(json.loads(answer.body.to_pybytes()))


def _descriptor(request: dict) -> fl.FlightDescriptor:
    if not isinstance(request, dict):
        raise TypeError(f"a request is a dict of the server's keys, got {type(request).__name__}")
    return fl.FlightDescriptor.for_command(json.dumps(request))


def _body(request: dict, args: dict) -> bytes:
    return json.dumps({**request, "args": args}).encode()


def _progress(total: int, progress: Optional[bool]):
    if progress is False or (progress is None and total < PROGRESS_MIN_ROWS):
        return None
    from tqdm.auto import tqdm

    # disable=None: tqdm hides itself when the output is not a terminal (unless asked for).
    return tqdm(total=total, unit="rows", unit_scale=True, desc="annflight",
                disable=None if progress is None else False)
