"""Record batches from a same-host server through a ring of shared memory.

The client creates a ring file in ``/dev/shm`` and names it in each DoGet's
``annflight-shared-memory`` header; the server writes each record batch once, as an Arrow IPC
message, into the ring's next slot, and Flight carries only a zero-row batch saying where it
is (app_metadata ``annflight-shm:{"slot", "length", "rows"}``). The batch is read in place
(zero-copy), and its slot is free again for the server once nothing views it any more: the
batch, its slices and every array made from its buffers are gone. The protocol is in
docs/reference/shared-memory.md.

One ring per reader and process (never shared across processes: a DataLoader worker makes its
own); the file is unlinked when the reader is closed, and at interpreter exit for any left.
"""
import atexit
import json
import logging
import mmap
import multiprocessing.util
import os
import re
import secrets
import stat
import struct
import sys
import threading
import time
import weakref
from typing import Iterator, Optional, Union
from urllib.parse import urlparse

try:
    import fcntl
except ImportError:  # not a POSIX system: no rings
    fcntl = None

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

HEADER = b"annflight-shared-memory"
METADATA_PREFIX = b"annflight-shm:"
MAGIC = b"AFSHM01\0"
HEADER_BYTES = 4096
STATE_OFFSET = 64
DIRECTORY = "/dev/shm"
# 4 slots of twice the messages asked for (the server's estimate of a batch's bytes may fall
# short), or 24 MiB when the request does not say; the slots are pages of /dev/shm, faulted in
# as they are first written and reused for every batch after.
SLOT_COUNT = 4
SLOT_BYTES = 24 << 20
MAX_SLOT_BYTES = 256 << 20

# A ring file nobody holds (its process was killed: SIGKILL, the OOM killer) is removed by the
# next process that makes a ring, once it is this old: every live ring is held (flock) by the
# process that made it from its first microseconds, and its children.
ABANDONED_AFTER_S = 60.0
_RING_NAME = re.compile(r"annflight-[0-9a-f]{32}")
_LOG = logging.getLogger("annflight")
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "[::1]"}
_OPEN = weakref.WeakSet()  # rings of this process not closed yet (unlinked at exit)
# Batches this process read through a ring (for tests and benchmarks).
COUNTS = {"ring": 0}


def available() -> bool:
    """Whether this system can make rings: Linux with a writable /dev/shm."""
    return (sys.platform.startswith("linux") and fcntl is not None
            and os.path.isdir(DIRECTORY)
            and os.access(DIRECTORY, os.W_OK))


def loopback(uri: str) -> bool:
    """Whether a server URI names this host's loopback interface."""
    try:
        host = urlparse(uri).hostname
    except ValueError:
        return False
    return host is not None and host.lower() in _LOOPBACK


def slot_bytes_for(message_bytes: Optional[int]) -> int:
    """The slot size for messages of about ``message_bytes`` (None: unknown)."""
    if not message_bytes:
        return SLOT_BYTES
    n = min(max(2 * int(message_bytes), 1 << 20), MAX_SLOT_BYTES)
    return -(-n // 64) * 64


def wanted(mode: Union[str, bool], uri: str) -> bool:
    """Whether to ask the server at ``uri`` for shared memory: ``"auto"`` on a loopback URI
    (the package's local server is one) where rings can be made; True always; False never."""
    if mode not in ("auto", True, False):
        raise ValueError(f"shared_memory must be 'auto', True or False, got {mode!r}")
    if mode is False or not available():
        return False
    return mode is True or loopback(uri)


class Ring:
    """A ring file of ``slot_count`` slots of ``slot_bytes``, mapped into this process."""

    def __init__(self, slot_count: Optional[int] = None, slot_bytes: Optional[int] = None):
        slot_count = slot_count or SLOT_COUNT
        slot_bytes = slot_bytes or SLOT_BYTES
        if not 1 <= slot_count <= 64 or slot_bytes < (1 << 20) or slot_bytes % 64:
            raise ValueError("a ring has 1..64 slots of a multiple of 64 bytes, at least 1 MiB")
        self.slot_count, self.slot_bytes = slot_count, slot_bytes
        self.path = os.path.join(DIRECTORY, "annflight-" + secrets.token_hex(16))
        self.pid = os.getpid()
        size = HEADER_BYTES + slot_count * slot_bytes
        _sweep_once()
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # held while the file exists: see sweep_abandoned
            os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            os.unlink(self.path)
            raise
        self._fd = fd
        self._map[:24] = MAGIC + struct.pack("<IIQ", slot_count, 0, slot_bytes)
        self._states = np.frombuffer(self._map, dtype="<i4", count=slot_count,
                                     offset=STATE_OFFSET)
        base = np.frombuffer(self._map, dtype=np.uint8, count=1).ctypes.data
        self._span = (base, base + size)
        self._closed = False
        _OPEN.add(self)
        _close_at_exit()

    def headers(self) -> list:
        return [(HEADER, self.path.encode())]

    def batch(self, chunk: fl.FlightStreamChunk) -> Optional[pa.RecordBatch]:
        """The record batch a chunk announces in a slot (read in place), or None when the chunk
        is a batch of its own."""
        meta = chunk.app_metadata
        if meta is None or not meta.to_pybytes().startswith(METADATA_PREFIX):
            return None
        where = json.loads(meta.to_pybytes()[len(METADATA_PREFIX):])
        slot, length, rows = int(where["slot"]), int(where["length"]), int(where["rows"])
        if chunk.data.num_rows:
            raise ValueError(f"the server announced slot {slot} in a batch of"
                             f" {chunk.data.num_rows} rows, not zero")
        if not 0 <= slot < self.slot_count or not 0 < length <= self.slot_bytes:
            raise ValueError(f"the server announced slot {slot} of {length} bytes; the ring"
                             f" {self.path} has {self.slot_count} of {self.slot_bytes}")
        # A fresh array over the slot for each batch: when the last Arrow buffer made from it
        # goes, so does the array, and the slot is marked free.
        view = np.frombuffer(self._map, dtype=np.uint8, count=length,
                             offset=HEADER_BYTES + slot * self.slot_bytes)
        weakref.finalize(view, _free, self._states, slot)
        shell = chunk.data
        message = pa.ipc.read_message(pa.py_buffer(view))
        del view
        plain = pa.schema([f.with_type(f.type.index_type)
                           if pa.types.is_dictionary(f.type) else f for f in shell.schema],
                          metadata=shell.schema.metadata)
        batch = pa.ipc.read_record_batch(message, plain)
        COUNTS["ring"] += 1
        if batch.num_rows != rows:
            raise ValueError(f"slot {slot} of {self.path} holds {batch.num_rows} rows, not the"
                             f" {rows} announced")
        if plain.equals(shell.schema):
            return batch
        # Dictionary columns travel as their indices; the dictionaries came over Flight.
        columns = [pa.DictionaryArray.from_arrays(c, shell.column(i).dictionary)
                   if pa.types.is_dictionary(shell.schema.field(i).type) else c
                   for i, c in enumerate(batch.columns)]
        return pa.RecordBatch.from_arrays(columns, schema=shell.schema)

    def all_free(self) -> bool:
        """Whether no slot holds a batch still viewed here: a new stream may start in it (the
        server takes slot 0 first)."""
        return not self._states.any()

    def holds(self, address: int) -> bool:
        """Whether ``address`` lies in this ring's memory."""
        return self._span[0] <= address < self._span[1]

    def slot_at(self, address: int) -> Optional[int]:
        """The slot ``address`` lies in, or None."""
        if not self._span[0] + HEADER_BYTES <= address < self._span[1]:
            return None
        return (address - self._span[0] - HEADER_BYTES) // self.slot_bytes

    def close(self):
        """Unlinks the file; the memory goes with the last batch still viewing it."""
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        try:
            if os.getpid() == self.pid:
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        try:
            os.close(self._fd)  # the name is gone: nothing to hold it against any more
        except OSError:
            pass
        self._states = None
        try:
            self._map.close()
        except BufferError:
            pass  # batches still view it: unmapped when they are gone


def _address(batch: pa.RecordBatch) -> Optional[int]:
    for column in batch.columns:
        for b in column.buffers():
            if b is not None and b.size:
                return b.address
    return None


def slots_viewed(batches: list) -> int:
    """How many slots of this process's rings the record batches view."""
    slots = set()
    rings = list(_OPEN)
    for batch in batches:
        address = _address(batch)
        if address is None:
            continue
        for r in rings:
            slot = r.slot_at(address)
            if slot is not None:
                slots.add((r.path, slot))
    return len(slots)


def private_copy(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` in memory of its own (dictionaries and all): it no longer keeps a slot."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return pa.ipc.open_stream(sink.getvalue()).read_next_batch()


def owned(a: np.ndarray) -> np.ndarray:
    """``a``, or a copy of it when it views a ring of this process: a batch kept by the
    caller must not keep a slot, which the server waits for."""
    if a.flags.owndata or not a.size:
        return a
    address = a.__array_interface__["data"][0]
    if any(r.holds(address) for r in list(_OPEN)):
        return np.array(a)
    return a


def _free(states: np.ndarray, slot: int):
    states[slot] = 0


_swept_in = None


def _sweep_once():
    global _swept_in
    if _swept_in != os.getpid():
        _swept_in = os.getpid()
        sweep_abandoned()


def sweep_abandoned() -> int:
    """Removes this user's ring files in ``DIRECTORY`` that no process holds (their maker was
    killed before it could unlink them) and that are at least ``ABANDONED_AFTER_S`` old;
    returns how many. A ring's maker holds a lock on it (``flock``) until it unlinks it, so a
    file whose lock can be taken is nobody's."""
    removed = 0
    now = time.time()
    try:
        names = os.listdir(DIRECTORY)
    except OSError:
        return 0
    for name in names:
        if not _RING_NAME.fullmatch(name):
            continue
        path = os.path.join(DIRECTORY, name)
        try:
            st = os.lstat(path)
            if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid()
                    or now - st.st_ctime < ABANDONED_AFTER_S):
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino == os.lstat(path).st_ino:  # still the file we locked
                os.unlink(path)
                removed += 1
        except OSError:
            pass  # held (BlockingIOError): a live ring; or gone meanwhile
        finally:
            os.close(fd)
    if removed:
        _LOG.info("removed %d abandoned shared-memory ring file(s) from %s", removed, DIRECTORY)
    return removed


def _close_all():
    for ring in list(_OPEN):
        ring.close()


atexit.register(_close_all)
_registered_in = None


def _close_at_exit():
    """Also in a multiprocessing child (a DataLoader worker), which ends with os._exit after
    its own exit handlers, never atexit's."""
    global _registered_in
    if _registered_in != os.getpid():
        _registered_in = os.getpid()
        multiprocessing.util.Finalize(None, _close_all, exitpriority=100)


class Reader:
    """Reads tickets' record batches through rings of shared memory, one at a time. A ring is
    reused by a later ticket when the server finished its last one (it writes nothing more)
    and none of its slots is still viewed here: each stream takes the slots from slot 0, so a
    slot the caller still holds from the last stream (rows of a minibatch that spans tickets)
    would make the new stream wait for it while the caller waits for that stream. Such a ring
    waits in a pool of two until it is free; beyond that a new ring is made. ``mode``: see
    ``wanted``; with "auto", a stream the server sent without shared memory (it refused the
    ring, or runs with --no-shared-memory) ends the asking."""

    def __init__(self, mode: Union[str, bool], headers: list,
                 read_options: pa.ipc.IpcReadOptions, slot_count: Optional[int] = None,
                 slot_bytes: Optional[int] = None):
        wanted(mode, "")  # checks the mode
        self.mode, self.headers, self.read_options = mode, list(headers), read_options
        self.slot_count, self.slot_bytes = slot_count or SLOT_COUNT, slot_bytes or SLOT_BYTES
        if self.slot_count < 2:
            # The batch being read holds its slot until the next one arrives.
            raise ValueError("a reader needs rings of at least 2 slots")
        self._rings = []  # finished rings to reuse, oldest first
        self._declined = False
        self._lock = threading.Lock()

    def asks(self, uri: str) -> bool:
        return not self._declined and wanted(self.mode, uri)

    def batches(self, client: fl.FlightClient, ticket: bytes,
                uri: str) -> Iterator[pa.RecordBatch]:
        """A ticket's record batches from ``client`` (at ``uri``) through shared memory, when
        the server serves it so (call only when ``asks(uri)``)."""
        ring = self._take()
        options = fl.FlightCallOptions(headers=self.headers + ring.headers(),
                                       read_options=self.read_options)
        finished = used = False
        normal_rows = 0
        try:
            for chunk in client.do_get(fl.Ticket(ticket), options):
                batch = ring.batch(chunk)
                if batch is None:
                    normal_rows += chunk.data.num_rows
                    yield chunk.data
                else:
                    used = True
                    yield batch
            finished = True
        finally:
            chunk = batch = None
            if finished and (used or not normal_rows):
                self._give_back(ring)
            else:
                ring.close()  # the server may still be writing into it
        if normal_rows and not used:
            self._declined = self.mode == "auto"
            _LOG.log(logging.DEBUG if self.mode == "auto" else logging.WARNING,
                     "annflight: %s streamed over gRPC, not through shared memory", uri)

    _POOL = 2

    def _take(self) -> Ring:
        with self._lock:
            # A parent's ring, inherited by fork, is never shared.
            self._rings = [r for r in self._rings if r.pid == os.getpid()]
            for r in self._rings:
                if r.all_free():
                    self._rings.remove(r)
                    return r
        return Ring(self.slot_count, self.slot_bytes)

    def _give_back(self, ring: Ring):
        with self._lock:
            self._rings.append(ring)
            dropped = self._rings[:-self._POOL]
            self._rings = self._rings[-self._POOL:]
        for r in dropped:
            r.close()  # its memory goes with the last batch still viewing it

    def close(self):
        with self._lock:
            rings, self._rings = self._rings, []
        for r in rings:
            if r.pid == os.getpid():
                r.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_rings"], state["_lock"] = [], None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
