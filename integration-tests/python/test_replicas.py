"""Three replicas of the server jar on loopback (--locations), over copies of the same files
and one configuration: any replica spreads the endpoints over all three with alternates; the
package's read across them equals anndata; with a replica killed, reads and the torch dataset
fail over to the alternates, and a stream cut mid-way resumes on the next location after the
rows it had."""
import json
import shutil
import socket

import numpy as np
import pyarrow.flight as fl
import pytest

import annflight
from annflight.client import endpoint_batches
from conftest import metrics_url, start_jar, stop_jar
from expected import FIXTURES, read

ROWS_PER_ENDPOINT = 10  # dense.h5ad's 60 rows: 6 endpoints, 2 per replica


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def on_free_ports(n, start):
    """`start(ports, attempt)` with `n` ports free a moment ago (replicas must know each
    other's before they start). On a shared machine another process may take one in between:
    then the servers it started are stopped and it runs again on other ports (3 tries)."""
    for attempt in range(3):
        try:
            return start(free_ports(n), attempt)
        except pytest.fail.Exception as e:  # start_jar's failure, with the server's output
            if "Failed to bind" not in str(e) or attempt == 2:
                raise


def start_replicas(tmp_path, collection, args, n):
    """`n` replicas serving `collection` as "pbmc", each over its own copy of dense.h5ad and
    with `args`; (their URIs, their (process, uri, log) from start_jar)."""
    def start(ports, attempt):
        uris = [f"grpc+tcp://127.0.0.1:{p}" for p in ports]
        started = []
        try:
            for i, port in enumerate(ports):
                root = tmp_path / f"try{attempt}" / f"replica{i}"
                root.mkdir(parents=True)
                shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
                (root / "config.json").write_text(json.dumps({
                    "collections": {"pbmc": collection}, "locations": uris}))
                started.append(start_jar(["--config", str(root / "config.json"),
                                          "--port", str(port), *args]))
        except BaseException:
            for proc, _, _ in started:
                stop_jar(proc)
            raise
        return uris, started
    return on_free_ports(n, start)


@pytest.fixture
def replicas(tmp_path):
    uris, started = start_replicas(
        tmp_path, {"paths": ["dense.h5ad"], "obs_keys": ["cell_type"]},
        ["--max-rows-per-endpoint", str(ROWS_PER_ENDPOINT)], n=3)
    procs = [proc for proc, _, _ in started]
    try:
        yield uris, procs
    finally:
        for p in procs:
            stop_jar(p)


def expected_x():
    return np.asarray(read("dense.h5ad").X)


def x_of(table):
    return np.stack(table.column("X").to_numpy(zero_copy_only=False))


def test_endpoints_are_spread_over_every_replica_with_alternates(replicas):
    uris, _ = replicas
    spreads = []
    for uri in uris:
        with annflight.connect(uri) as af:
            info = af.info({"collection": "pbmc"})
        spreads.append([[l.uri.decode() for l in e.locations] for e in info.endpoints])
    assert spreads[0] == spreads[1] == spreads[2]
    firsts = [where[0] for where in spreads[0]]
    assert sorted(firsts) == sorted(uris * 2)
    assert all(sorted(where) == sorted(uris) for where in spreads[0])


def test_a_read_across_the_replicas_equals_anndata_and_survives_a_dead_replica(replicas):
    uris, procs = replicas
    with annflight.connect(uris[0]) as af:
        assert np.array_equal(x_of(af.read({"collection": "pbmc"}, progress=False)),
                              expected_x())
        procs[1].kill()
        procs[1].wait()
        table = af.read({"collection": "pbmc"}, progress=False)
    assert np.array_equal(x_of(table), expected_x())


def test_the_torch_dataset_reads_its_part_from_an_alternate_when_its_replica_is_down(replicas):
    from annflight.torch import AnnflightDataset
    uris, procs = replicas
    procs[0].kill()
    procs[0].wait()
    ds = AnnflightDataset({"collection": "pbmc"}, uri=uris[2], batch_size=8)
    rows = [r for batch in ds for r in batch["_row"].tolist()]
    assert sorted(rows) == list(range(60))


def test_a_stream_cut_midway_resumes_on_the_next_location_after_the_rows_it_had(replicas):
    uris, procs = replicas
    # An endless epoch (weighted draws), one ticket far larger than any flow-control window.
    request = {"collection": "pbmc", "return_index": True, "rows_per_batch": 1000,
               "sampler": {"kind": "weighted", "num_samples": 2_000_000,
                           "weights": {"obs_keys": ["cell_type"]}},
               "rows_per_endpoint": 2_000_000}
    client = fl.connect(uris[0])
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
    ticket = {**json.loads(info.endpoints[0].ticket.ticket), "stop": 200_000}
    options = fl.FlightCallOptions()
    batches = endpoint_batches([uris[0], uris[1]], ticket, options)
    got = [next(batches).column("_row").to_numpy()]
    client.close()
    procs[0].kill()  # mid-stream: the rest comes from the second location
    procs[0].wait()
    got += [b.column("_row").to_numpy() for b in batches]
    rows = np.concatenate(got)
    reference = fl.connect(uris[1])
    whole = reference.do_get(fl.Ticket(json.dumps(ticket).encode())).read_all()
    reference.close()
    assert len(rows) == 200_000
    assert np.array_equal(rows, whole.column("_row").to_numpy())


def test_every_location_down_is_unavailable_naming_each(tmp_path):
    dead = [f"grpc+tcp://127.0.0.1:{p}" for p in free_ports(2)]
    with pytest.raises(annflight.Unavailable, match="no location could serve") as e:
        list(endpoint_batches(dead, {"request": {"collection": "x"}, "start": 0, "stop": 1},
                              fl.FlightCallOptions()))
    assert all(uri in str(e.value) for uri in dead)


def rows_sent(metrics_uri):
    import urllib.request
    text = urllib.request.urlopen(metrics_uri, timeout=30).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("annflight_rows_sent_total{"))


def test_torchrun_ddp_over_two_replicas_covers_each_epoch_once_with_equal_batches(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    # /metrics on a port each replica picks.
    uris, started = start_replicas(tmp_path, {"paths": ["dense.h5ad"]}, ["--metrics-port", "0"],
                                   n=2)
    procs = [proc for proc, _, _ in started]
    try:
        metrics = [metrics_url(log) for _, _, log in started]
        script = Path(__file__).parent / "scripts" / "ddp_train.py"
        run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                              "--nproc_per_node", "2", str(script), uris[0], str(tmp_path)],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
        for epoch in range(2):
            batches = [ranks[r][epoch] for r in range(2)]
            assert len(batches[0]) == len(batches[1]), "equal batch counts: no rank waits"
            rows = [r for b in batches[0] + batches[1] for r in b]
            assert sorted(set(rows)) == list(range(60)) and len(rows) == 60  # once each
        assert ranks[0][0] != ranks[0][1], "a new order each epoch"
        # Both replicas served rows: each rank's two workers read from different replicas.
        sent = [rows_sent(m) for m in metrics]
        assert all(s > 0 for s in sent) and sum(sent) >= 2 * 60
    finally:
        for p in procs:
            stop_jar(p)
