"""Batches through shared memory from a server on this host (docs/reference/shared-memory.md):
the torch dataset over a ring equals anndata (CSR, dense, var_names; 0 and 2 workers), a batch
larger than a slot comes over gRPC and still equals, a server with --no-shared-memory gives the
same values, the ring files are gone once the iterators end, and the server never writes to a
path that is not an acceptable ring. The collection is written here with anndata: two CSR
stores, 20,000 genes, 1,000 non-zeros per cell."""
import json
import os
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as fl
import pytest
import torch
from scipy import sparse
from torch.utils.data import DataLoader

from annflight import shm
from annflight.torch import AnnflightDataset
from conftest import start_jar, stop_jar

pytestmark = pytest.mark.skipif(not shm.available(), reason="no /dev/shm on this system")

GENES = 20_000
NNZ = 1_000
STORES = [("a.h5ad", 320, 0), ("b.zarr", 280, 1)]
SOME_GENES = [f"gene{j}" for j in range(0, GENES, 10)]


def _adata(n_obs: int, seed: int) -> anndata.AnnData:
    rng = np.random.default_rng(seed)
    cols = np.concatenate([np.sort(rng.choice(GENES, size=NNZ, replace=False))
                           for _ in range(n_obs)])
    x = sparse.csr_matrix((rng.integers(1, 50, size=n_obs * NNZ).astype(np.float32), cols,
                           np.arange(n_obs + 1) * NNZ), shape=(n_obs, GENES))
    obs = pd.DataFrame({"cell_type": pd.Categorical(rng.choice(["B", "T", "NK"], n_obs))},
                       index=[f"s{seed}_c{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(GENES)])
    return anndata.AnnData(X=x, obs=obs, var=var)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("shm")
    adatas = []
    for name, n_obs, seed in STORES:
        a = _adata(n_obs, seed)
        (a.write_zarr if name.endswith(".zarr") else a.write_h5ad)(root / name)
        adatas.append(a)
    return root, adatas


@pytest.fixture(scope="module")
def served(stores):
    root, adatas = stores
    proc, uri, _ = start_jar(["--data-root", str(root)])
    try:
        yield uri, adatas
    finally:
        stop_jar(proc)


def _ours(pid: int) -> bool:
    """Whether ``pid`` is this process or one of its descendants (DataLoader workers)."""
    me = os.getpid()
    while pid > 1:
        if pid == me:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


def _lock_holders() -> dict:
    """{(device major, minor, inode): pids holding a flock on it}, from /proc/locks."""
    holders = {}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" not in fields or "->" in fields:
            continue  # another kind of lock, or a waiter
        at = fields.index("FLOCK")
        pid, where = int(fields[at + 3]), fields[at + 4].split(":")
        holders.setdefault((int(where[0], 16), int(where[1], 16), int(where[2])), set()).add(pid)
    return holders


def _rings() -> set:
    """The ring files in /dev/shm but those a live process outside this test holds (another
    annflight client on the machine): a ring of this process, or one nobody holds, counts."""
    holders = _lock_holders()
    out = set()
    for name in os.listdir(shm.DIRECTORY):
        if not name.startswith("annflight-"):
            continue
        try:
            st = os.stat(os.path.join(shm.DIRECTORY, name))
        except FileNotFoundError:
            continue  # removed meanwhile
        pids = holders.get((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino), set())
        if not pids or any(_ours(p) for p in pids):
            out.add(name)
    return out


def _expected_x(adatas, genes=None):
    x = np.vstack([a.X.toarray() for a in adatas])
    return x if genes is None else x[:, [int(g[4:]) for g in genes]]


def _expected_codes(adatas):
    cats = sorted(set().union(*(a.obs["cell_type"].cat.categories for a in adatas)))
    return np.concatenate([[cats.index(v) for v in a.obs["cell_type"]] for a in adatas])


def _read(ds, workers=0):
    loader = DataLoader(ds, batch_size=None, num_workers=workers,
                        multiprocessing_context="spawn" if workers else None)
    xs, rows, codes = [], [], []
    for batch in loader:
        x = batch["X"]
        xs.append((x.to_dense() if x.layout == torch.sparse_csr else x).numpy())
        rows.append(batch["_row"].numpy())
        codes.append(batch["cell_type"].numpy())
    order = np.argsort(np.concatenate(rows))
    assert (np.concatenate(rows)[order] == np.arange(len(order))).all()
    return np.vstack(xs)[order], np.concatenate(codes)[order]


REQUESTS = {
    "csr": {"matrix_format": "csr"},
    "dense": {},
    "var_names": {"var_names": SOME_GENES},
}


@pytest.mark.parametrize("kind", sorted(REQUESTS))
@pytest.mark.parametrize("workers", [0, 2])
def test_torch_dataset_through_shared_memory_equals_anndata(served, kind, workers):
    uri, adatas = served
    before, rings = shm.COUNTS["ring"], _rings()
    request = {"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"], **REQUESTS[kind]}
    ds = AnnflightDataset(request, uri=uri, shared_memory=True,
                          sampler={"kind": "block_shuffle"})
    x, codes = _read(ds, workers)
    np.testing.assert_array_equal(x, _expected_x(adatas, REQUESTS[kind].get("var_names")))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))
    if workers == 0:
        assert shm.COUNTS["ring"] > before  # the batches did come through a ring
    assert _rings() <= rings  # every ring made for the reads is gone


def test_slots_are_twice_the_messages_asked_for():
    assert shm.slot_bytes_for(8 << 20) == 16 << 20
    assert shm.slot_bytes_for(None) == shm.SLOT_BYTES
    assert shm.slot_bytes_for(1000) == 1 << 20
    assert shm.slot_bytes_for(1 << 30) == shm.MAX_SLOT_BYTES


def test_auto_uses_shared_memory_on_loopback(served):
    uri, adatas = served
    assert shm.loopback(uri)
    before = shm.COUNTS["ring"]
    x, _ = _read(AnnflightDataset({"paths": [n for n, _, _ in STORES],
                                   "obs_keys": ["cell_type"]}, uri=uri))
    np.testing.assert_array_equal(x, _expected_x(adatas))
    assert shm.COUNTS["ring"] > before


@pytest.mark.parametrize("compression", ["lz4", "zstd"])
def test_a_compressed_request_comes_uncompressed_through_the_ring(served, compression):
    # The zero-row batches go through the compressing listener; the slots hold plain buffers.
    uri, adatas = served
    before = shm.COUNTS["ring"]
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                           "matrix_format": "csr"}, uri=uri, shared_memory=True,
                          compression=compression)
    x, codes = _read(ds)
    np.testing.assert_array_equal(x, _expected_x(adatas))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))
    assert shm.COUNTS["ring"] > before


def test_a_batch_larger_than_a_slot_comes_over_grpc(served, monkeypatch):
    uri, adatas = served
    # 1 MiB slots; messages of about 4 MiB (500 rows of 8 KB) cannot fit one.
    monkeypatch.setattr(shm, "slot_bytes_for", lambda _: 1 << 20)
    before = shm.COUNTS["ring"]
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                           "matrix_format": "csr", "bytes_per_batch": 4 << 20},
                          uri=uri, shared_memory=True)
    x, codes = _read(ds)
    np.testing.assert_array_equal(x, _expected_x(adatas))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))
    # The last message (100 rows, about 0.8 MiB) fits a slot; the others came over gRPC.
    assert shm.COUNTS["ring"] - before == 1


def test_small_messages_mixed_with_large_ones_equal_anndata(served, monkeypatch):
    uri, adatas = served
    monkeypatch.setattr(shm, "slot_bytes_for", lambda _: 1 << 20)
    monkeypatch.setattr(shm, "SLOT_COUNT", 2)
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                           "matrix_format": "csr", "bytes_per_batch": 1 << 20},
                          uri=uri, shared_memory=True, batch_size=100)
    x, codes = _read(ds)
    np.testing.assert_array_equal(x, _expected_x(adatas))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))


def test_a_server_without_shared_memory_gives_the_same_values(stores):
    root, adatas = stores
    proc, uri, _ = start_jar(["--data-root", str(root), "--no-shared-memory"])
    try:
        before, rings = shm.COUNTS["ring"], _rings()
        for mode in (True, "auto"):
            ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                                   "matrix_format": "csr"}, uri=uri, shared_memory=mode)
            x, codes = _read(ds)
            np.testing.assert_array_equal(x, _expected_x(adatas))
            np.testing.assert_array_equal(codes, _expected_codes(adatas))
        assert shm.COUNTS["ring"] == before
        assert _rings() <= rings
    finally:
        stop_jar(proc)


def test_an_iterator_closed_early_removes_its_ring(served):
    uri, _ = served
    rings = _rings()
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "matrix_format": "csr"},
                          uri=uri, shared_memory=True, batch_size=50)
    it = iter(ds)
    next(it)
    assert len(_rings() - rings) == 1  # this iterator's ring, while it reads
    it.close()
    assert _rings() <= rings


def _ticket(uri: str) -> bytes:
    request = {"paths": [n for n, _, _ in STORES], "matrix_format": "csr"}
    with fl.connect(uri) as client:
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
    return info.endpoints[0].ticket.ticket


def _normal_stream(uri: str, named=None) -> int:
    """The rows of the first endpoint's stream, asking for ``named``: every chunk must be a
    normal batch."""
    options = fl.FlightCallOptions(headers=[(shm.HEADER, named.encode())] if named else [])
    rows = 0
    with fl.connect(uri) as client:
        for chunk in client.do_get(fl.Ticket(_ticket(uri)), options):
            assert chunk.app_metadata is None
            rows += chunk.data.num_rows
    return rows


def test_the_server_never_writes_to_a_path_that_is_not_a_ring(served, tmp_path):
    uri, _ = served
    n = _normal_stream(uri)
    # A file laid out as a ring, but elsewhere, and a symlink to it named as a ring in /dev/shm.
    target = tmp_path / "target"
    ring = shm.Ring(1, 1 << 20)
    try:
        target.write_bytes(Path(ring.path).read_bytes())
    finally:
        ring.close()
    before = target.read_bytes()
    link = Path(shm.DIRECTORY) / ("annflight-" + "0123456789abcdef" * 2)
    os.symlink(target, link)
    try:
        assert _normal_stream(uri, str(link)) == n
    finally:
        link.unlink()
    assert _normal_stream(uri, str(target)) == n
    # A ring's name through a path that leaves /dev/shm and comes back.
    assert _normal_stream(uri, f"{shm.DIRECTORY}/../{shm.DIRECTORY[1:]}/{link.name}") == n
    assert target.read_bytes() == before


@pytest.mark.parametrize("transport", ["dense", "csr"])
def test_numpy_batches_kept_whole_hold_no_slot_and_equal_anndata(served, monkeypatch, transport):
    # Far more messages than the 2 slots, all kept: arrays that viewed a slot would keep it,
    # and the server would wait for it while this client waits for the next message.
    import annflight
    uri, adatas = served
    # (Dense messages of these sparse stores hold about 60 rows, 4.8 MB.)
    monkeypatch.setattr(shm, "slot_bytes_for", lambda _: 8 << 20)
    monkeypatch.setattr(shm, "SLOT_COUNT", 2)
    before, rings = shm.COUNTS["ring"], _rings()
    with annflight.connect(uri) as client:
        batches = list(client.numpy_batches(
            {"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
             "bytes_per_batch": 256 << 10}, transport=transport, shared_memory=True))
    assert len(batches) > 4
    assert shm.COUNTS["ring"] - before == len(batches)
    np.testing.assert_array_equal(np.vstack([b["X"] for b in batches]), _expected_x(adatas))
    np.testing.assert_array_equal(np.concatenate([b["cell_type"] for b in batches]),
                                  _expected_codes(adatas))
    assert _rings() <= rings


def test_a_ring_truncated_under_the_stream_ends_that_stream_only(served):
    uri, _ = served
    request = {"paths": [n for n, _, _ in STORES], "matrix_format": "csr", "rows_per_batch": 20}
    ring = shm.Ring(1, 1 << 20)
    try:
        with fl.connect(uri) as client:
            info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
            reader = client.do_get(info.endpoints[0].ticket,
                                   fl.FlightCallOptions(headers=ring.headers()))
            first = reader.read_chunk()
            assert first.app_metadata.to_pybytes().startswith(shm.METADATA_PREFIX)
            # Only the header stays; this test never touches the slot's memory (it would fault
            # here too). Freed, the slot is the server's next write, which faults: that stream
            # ends, with a reason.
            os.truncate(ring.path, shm.HEADER_BYTES)
            ring._states[0] = 0
            with pytest.raises(fl.FlightError, match="truncated"):
                while True:
                    reader.read_chunk()
    finally:
        ring.close()
    assert _normal_stream(uri) > 0  # the server serves on


@pytest.mark.parametrize("slots", [2, 4])
def test_a_minibatch_spanning_more_messages_than_slots_equals_anndata(served, monkeypatch,
                                                                      slots):
    # Messages of 64 rows, minibatches of 300: each spans 5 or 6 messages. Kept in place, their
    # rows would hold every slot while the server waits for the next one.
    uri, adatas = served
    monkeypatch.setattr(shm, "slot_bytes_for", lambda _: 1 << 20)
    monkeypatch.setattr(shm, "SLOT_COUNT", slots)
    before = shm.COUNTS["ring"]
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                           "matrix_format": "csr", "rows_per_batch": 64},
                          uri=uri, shared_memory=True, batch_size=300)
    x, codes = _read(ds)
    np.testing.assert_array_equal(x, _expected_x(adatas))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))
    assert shm.COUNTS["ring"] - before >= 600 // 64


def test_tickets_of_one_message_each_equal_anndata(served, monkeypatch):
    # Each ticket's stream starts at slot 0, while the last batch of the ticket before (its
    # only message, in slot 0) is still the one being read: the next ticket takes another ring.
    from annflight.layout import EpochLayout
    tickets = EpochLayout.tickets
    monkeypatch.setattr(EpochLayout, "tickets",
                        lambda self, part, first=0, per=0: tickets(self, part, first, 100))
    uri, adatas = served
    before, rings = shm.COUNTS["ring"], _rings()
    ds = AnnflightDataset({"paths": [n for n, _, _ in STORES], "obs_keys": ["cell_type"],
                           "matrix_format": "csr"}, uri=uri, shared_memory=True, batch_size=100)
    x, codes = _read(ds)
    np.testing.assert_array_equal(x, _expected_x(adatas))
    np.testing.assert_array_equal(codes, _expected_codes(adatas))
    assert shm.COUNTS["ring"] - before == 6
    assert _rings() <= rings


def _ring_in_a_child():
    """A process that made a ring and holds it; returns (process, ring path)."""
    import subprocess
    import sys
    code = ("import sys, time\nfrom annflight import shm\nr = shm.Ring(1, 1 << 20)\n"
            "print(r.path, flush=True)\ntime.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    path = proc.stdout.readline().strip()
    assert path and os.path.exists(path), f"the child made no ring (exit {proc.poll()})"
    return proc, path


def test_a_ring_left_by_a_killed_process_is_removed_and_live_rings_are_kept(monkeypatch):
    monkeypatch.setattr(shm, "ABANDONED_AFTER_S", 0.0)  # age alone never decides here
    killed, abandoned = _ring_in_a_child()
    alive, held = _ring_in_a_child()
    mine = shm.Ring(1, 1 << 20)
    try:
        killed.kill()  # SIGKILL: no exit handler unlinks its ring
        killed.wait(timeout=60)
        assert os.path.exists(abandoned)
        assert shm.sweep_abandoned() >= 1
        assert not os.path.exists(abandoned)
        assert os.path.exists(held) and os.path.exists(mine.path)  # held by live processes
        alive.kill()
        alive.wait(timeout=60)
        shm.sweep_abandoned()
        assert not os.path.exists(held)
        assert os.path.exists(mine.path)
    finally:
        for proc in (killed, alive):
            proc.kill()
            proc.wait(timeout=60)
        mine.close()
    assert not os.path.exists(mine.path)


def test_the_sweep_leaves_young_rings_and_other_files(monkeypatch, tmp_path):
    monkeypatch.setattr(shm, "DIRECTORY", str(tmp_path))
    young = tmp_path / ("annflight-" + "a" * 32)
    young.write_bytes(b"x")  # nobody holds it, but it was just made: its maker may lock it yet
    other = tmp_path / "annflight-notaring"
    other.write_bytes(b"x")
    assert shm.sweep_abandoned() == 0
    monkeypatch.setattr(shm, "ABANDONED_AFTER_S", 0.0)
    assert shm.sweep_abandoned() == 1
    assert not young.exists() and other.exists()
