"""Health and a graceful stop of the server jar: the standard gRPC health service answers
SERVING on the Flight port once the collections are open (probed with grpcio, the protobuf
messages written by hand); SIGTERM while a stream runs lets it finish, and the process exits 0."""
import json
import re
import shutil
import signal
import time

import grpc
import pyarrow.flight as fl
import pytest

from conftest import metrics_url, start_jar, stop_jar
from expected import FIXTURES

SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def start(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
    (tmp_path / "config.json").write_text(json.dumps({"collections": {
        "pbmc": {"paths": ["root/dense.h5ad"]}}}))
    proc, uri, log = start_jar(["--config", str(tmp_path / "config.json"),
                                "--drain-seconds", "60"])
    return proc, uri.split("://", 1)[1], log


def health(addr: str, service: str = "") -> bytes:
    request = b"" if not service else b"\x0a" + bytes([len(service)]) + service.encode()
    with grpc.insecure_channel(addr) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        return check(request, timeout=30)


def test_health_then_sigterm_lets_the_running_stream_finish_and_exits_0(tmp_path):
    proc, addr, log = start(tmp_path)
    try:
        assert health(addr) == SERVING
        assert health(addr, "arrow.flight.protocol.FlightService") == SERVING
        client = fl.connect(f"grpc+tcp://{addr}")
        request = {"collection": "pbmc", "rows_per_batch": 4, "rows_per_endpoint": 60}
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(request)))
        reader = client.do_get(info.endpoints[0].ticket)
        first = reader.read_chunk().data
        proc.send_signal(signal.SIGTERM)
        rows = first.num_rows + sum(chunk.data.num_rows for chunk in reader)
        assert rows == 60
        assert proc.wait(timeout=90) == 0
        # The log is read on another thread: its last lines may come a moment after the exit.
        deadline = time.monotonic() + 60
        while not any("draining" in line for line in log) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("draining" in line for line in log)
    finally:
        stop_jar(proc)


def test_warm_up_streams_into_nowhere_before_serving_and_counts_no_rows(tmp_path):
    import urllib.request
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
    (tmp_path / "config.json").write_text(json.dumps({"collections": {
        "pbmc": {"paths": ["root/dense.h5ad"], "obs_keys": ["cell_type"]}}}))
    proc, uri, log = start_jar(["--config", str(tmp_path / "config.json"),
                                "--warmup-seconds", "2", "--metrics-port", "0"])
    try:
        metrics = metrics_url(log)
        addr = uri.split("://", 1)[1]
        # start_jar returns at "listening", which is logged once warm and SERVING.
        assert health(addr) == SERVING
        assert any("warming up for 2 s" in line for line in log)
        # Through the loopback port: real streams were read, none of them counted.
        warm = [re.search(r"warm after \d+ ms \((\d+) warm-up streams\)", line) for line in log]
        assert [int(m.group(1)) for m in warm if m][0] > 0
        text = urllib.request.urlopen(metrics, timeout=30).read()
        assert b"annflight_rows_sent_total{" not in text  # the warm-up's rows are not counted
        with fl.connect(uri) as client:
            table = client.do_get(client.get_flight_info(fl.FlightDescriptor.for_path("pbmc"))
                                  .endpoints[0].ticket).read_all()
        assert table.num_rows == 60
        text = urllib.request.urlopen(metrics, timeout=30).read()
        assert b'annflight_rows_sent_total{collection="pbmc"} 60.0' in text
    finally:
        stop_jar(proc)


def test_a_server_with_a_data_root_alone_warms_up_on_stores_it_writes(tmp_path):
    # No configured collection: the warm-up streams small stores the server writes (and
    # deletes) itself, so the first epoch of a `paths` request is warm too.
    import urllib.request
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
    proc, uri, log = start_jar(["--data-root", str(root), "--warmup-seconds", "2",
                                "--metrics-port", "0"])
    try:
        metrics = metrics_url(log)
        warm = [re.search(r"warm after \d+ ms \((\d+) warm-up streams\)", line) for line in log]
        assert [int(m.group(1)) for m in warm if m][0] > 0
        text = urllib.request.urlopen(metrics, timeout=30).read()
        assert b"annflight_rows_sent_total{" not in text  # the warm-up's rows are not counted
        assert list(root.iterdir()) == [root / "dense.h5ad"]  # nothing written in the root
        with fl.connect(uri) as client:
            info = client.get_flight_info(fl.FlightDescriptor.for_command(
                json.dumps({"paths": ["dense.h5ad"]})))
            assert sum(client.do_get(e.ticket).read_all().num_rows
                       for e in info.endpoints) == 60
        text = urllib.request.urlopen(metrics, timeout=30).read()
        assert b'annflight_rows_sent_total{collection="paths"} 60.0' in text
    finally:
        stop_jar(proc)
