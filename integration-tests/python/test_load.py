"""50 concurrent clients against a server limited to MAX_STREAMS streams at once
(--max-streams): while the limit is taken every one of them gets RESOURCE_EXHAUSTED naming the
limit and nothing else; once streams end they are all served, each value equal to anndata's.

The limit is taken deterministically, not by racing: MAX_STREAMS clients each read the first
batch of an endless stream (50,000,000 weighted draws, gigabytes: no flow-control window holds
it) and stop reading, so their streams stay running (the server's status action says so) until
they cancel. Every wait is bounded."""
import json
import shutil
import threading
import time

import annflight
import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import pytest

from conftest import start_jar, stop_jar
from expected import FIXTURES, read

MAX_STREAMS = 8
CLIENTS = 50
ENDLESS = {"collection": "small", "obs_keys": ["cell_type"], "sampler": {
    "kind": "weighted", "num_samples": 50_000_000, "weights": {"obs_keys": ["cell_type"]}},
    "rows_per_endpoint": 50_000_000}
DEADLINE_S = 180


def x_of(data, width):
    """The X column of a table or a record batch as a (rows, width) array."""
    column = data.column("X")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.flatten().to_numpy().reshape(-1, width)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    d = tmp_path_factory.mktemp("load")
    shutil.copy(FIXTURES / "dense.h5ad", d / "dense.h5ad")
    (d / "config.json").write_text(json.dumps({"collections": {
        "small": {"paths": ["dense.h5ad"]}}}))
    proc, uri, log = start_jar(["--data-root", str(d), "--config", str(d / "config.json"),
                                "--max-streams", str(MAX_STREAMS)])
    try:
        yield uri, log
    finally:
        stop_jar(proc)


def run_at_once(client, timeout_s):
    """CLIENTS threads running `client` at once, each joined within the bound."""
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    assert not any(t.is_alive() for t in threads)


def status(client):
    return json.loads(next(iter(client.do_action(fl.Action("server_status", b"")))).body
                      .to_pybytes())


def test_clients_over_the_stream_limit_are_refused_naming_it_and_all_are_served_later(limited):
    uri, log = limited
    small = read("dense.h5ad")
    small_x = np.asarray(small.X)
    admin = fl.connect(uri)
    endless = admin.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(ENDLESS)))
    assert endless.total_records == 50_000_000 and len(endless.endpoints) == 1
    small_ticket = (admin.get_flight_info(fl.FlightDescriptor.for_path("small"))
                    .endpoints[0].ticket)

    # The limit taken: MAX_STREAMS streams each read one batch and stop.
    holders, readers = [], []
    for _ in range(MAX_STREAMS):
        c = fl.connect(uri)
        r = c.do_get(endless.endpoints[0].ticket)
        first = r.read_chunk().data
        assert first.num_rows > 0
        holders.append(c)
        readers.append((r, first))
    running = status(admin)["streams_running"]
    assert running == MAX_STREAMS, f"{running} streams running, not the {MAX_STREAMS} held"

    # Everyone else at once: refused, and told which limit.
    refusals, other = [], []
    lock = threading.Lock()

    def refused_client():
        c = fl.connect(uri)
        try:
            c.do_get(small_ticket).read_all()
            with lock:
                other.append("served while the limit was taken")
        except pa.ArrowException as e:
            with lock:
                (refusals if "--max-streams" in str(e) else other).append(str(e))
        finally:
            c.close()

    run_at_once(refused_client, DEADLINE_S)
    assert other == []
    assert len(refusals) == CLIENTS
    assert all("resource exhausted" in r and "limit of 8 streams" in r for r in refusals)
    # The package tells it apart as a retryable limit.
    with annflight.connect(uri) as af:
        with pytest.raises(annflight.ResourceExhausted, match="--max-streams"):
            af.read({"collection": "small"}, progress=False)

    # The holders' first batches are rows of the store; then they cancel, freeing the limit.
    for r, first in readers:
        codes = first.column("cell_type").indices.fill_null(-1).to_numpy()
        assert set(codes) <= set(range(-1, len(small.obs["cell_type"].cat.categories)))
        r.cancel()
    for c in holders:
        c.close()

    # Now all 50 at once: past the limit they retry (bounded) and every one is served.
    served, failed = [], []

    def patient_client():
        c = fl.connect(uri)
        try:
            deadline = time.monotonic() + DEADLINE_S
            while True:
                try:
                    table = c.do_get(small_ticket).read_all()
                    break
                except pa.ArrowException as e:
                    if "--max-streams" not in str(e) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            ok = np.array_equal(x_of(table, small_x.shape[1]), small_x)
            with lock:
                (served if ok else failed).append(table.num_rows)
        except Exception as e:  # reported below, with the server's message
            with lock:
                failed.append(repr(e))
        finally:
            c.close()

    run_at_once(patient_client, DEADLINE_S + 30)
    assert failed == []
    assert served == [small.n_obs] * CLIENTS
    # A client has its last batch before the server's stream has ended: wait (bounded).
    deadline = time.monotonic() + DEADLINE_S
    while (after := status(admin))["streams_running"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    admin.close()
    assert after["streams_running"] == 0
    assert not any(" ERROR " in line or "Exception" in line for line in log), "\n".join(log)
