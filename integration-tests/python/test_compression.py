"""The request's "compression" (Arrow IPC buffer compression, LZ4_FRAME or ZSTD) with
pyarrow.flight: compressed streams decode to the same batches as uncompressed ones (and to what
anndata reads), tickets carry the choice, the bytes on the wire shrink, bad values are refused."""
import json
import socket
import threading

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from arrow_values import assert_collection
from conftest import DEMO_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS, FIX_PATHS, READ_OPTIONS
from expected import DEMO, Expected

FIX = Expected(FIX_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS)
CODECS = ["lz4", "zstd"]
# Several batches per endpoint (at most 40 rows each): the server fills the next batch on a
# second thread while it compresses and sends the last.
ROWS_PER_BATCH = 7


def command(request: dict) -> fl.FlightDescriptor:
    return fl.FlightDescriptor.for_command(json.dumps(request))


def endpoint_batches(client, request: dict) -> list:
    """Per endpoint, its record batches in the order they arrived."""
    info = client.get_flight_info(command(request), READ_OPTIONS)
    return [[chunk.data for chunk in client.do_get(ep.ticket, READ_OPTIONS)]
            for ep in info.endpoints]


def ticket(request: dict, indices: list) -> fl.Ticket:
    return fl.Ticket(json.dumps({"request": request, "indices": indices}).encode())


@pytest.mark.parametrize("codec", CODECS)
def test_whole_collection_in_small_batches_equals_the_uncompressed_stream(client, codec):
    plain = endpoint_batches(client, {"collection": "fix", "rows_per_batch": ROWS_PER_BATCH})
    packed = endpoint_batches(client, {"collection": "fix", "rows_per_batch": ROWS_PER_BATCH,
                                       "compression": codec})
    assert len(packed) == len(plain) > len(FIX_PATHS)
    assert all(len(batches) > 1 for batches in packed), "several batches per endpoint"
    for i, (p, q) in enumerate(zip(plain, packed)):
        assert [b.num_rows for b in q] == [b.num_rows for b in p], f"endpoint {i}"
        assert all(a.equals(b) for a, b in zip(p, q)), f"endpoint {i}"
    table = pa.Table.from_batches([b for batches in packed for b in batches])
    assert_collection(table, FIX)


@pytest.mark.parametrize("codec", CODECS)
def test_tickets_of_a_compressed_request_carry_the_codec(client, codec):
    request = {"collection": "fix", "compression": codec}
    info = client.get_flight_info(command(request), READ_OPTIONS)
    assert {json.loads(ep.ticket.ticket)["request"].get("compression")
            for ep in info.endpoints} == {codec}
    plain = client.get_flight_info(fl.FlightDescriptor.for_path("fix"), READ_OPTIONS)
    assert all("compression" not in json.loads(ep.ticket.ticket)["request"]
               for ep in plain.endpoints)


@pytest.mark.parametrize("codec", CODECS)
def test_hand_built_index_ticket_with_duplicates(client, codec):
    indices = [17, 3, 3, FIX.n_obs - 1, 0, 64, 112, 64, 64, 150, 41]
    request = {"collection": "fix", "rows_per_batch": 3}
    plain = client.do_get(ticket(request, indices), READ_OPTIONS).read_all()
    packed = client.do_get(ticket({**request, "compression": codec}, indices),
                           READ_OPTIONS).read_all()
    assert packed.num_rows == len(indices)
    assert len(packed["X"].chunks) > 1
    assert packed.equals(plain)
    assert_collection(packed, FIX, select=indices)


class ByteCountingProxy:
    """A TCP relay in front of the server that counts the bytes the server sends (gRPC's own
    message compression is off, so these are the IPC bodies plus framing)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.received = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.uri = f"grpc+tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self):
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._relay, args=(downstream, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._relay, args=(upstream, downstream, True),
                             daemon=True).start()

    def _relay(self, source, sink, count):
        try:
            while data := source.recv(1 << 16):
                if count:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self._listener.close()


def test_compressed_streams_are_smaller_on_the_wire(server):
    proxy = ByteCountingProxy(int(server.uri.rsplit(":", 1)[1]))
    sizes, tables = {}, {}
    try:
        with fl.connect(proxy.uri) as client:
            for codec in ["none"] + CODECS:
                info = client.get_flight_info(
                    command({"collection": "demo", "compression": codec}), READ_OPTIONS)
                before = proxy.received
                tables[codec] = pa.concat_tables(
                    client.do_get(ep.ticket, READ_OPTIONS).read_all() for ep in info.endpoints)
                sizes[codec] = proxy.received - before
    finally:
        proxy.close()
    assert tables["none"].num_rows == Expected(DEMO_PATHS, directory=DEMO).n_obs
    for codec in CODECS:
        assert tables[codec].equals(tables["none"]), codec
        # The demo's expression matrix is mostly zeros: about 4-6x smaller measured.
        assert sizes[codec] * 3 < sizes["none"], sizes


@pytest.mark.parametrize("value", ["gzip", 1])
def test_bad_compression_is_refused_naming_the_key(client, value):
    request = {"collection": "fix", "compression": value}
    with pytest.raises(pa.ArrowInvalid, match="compression"):
        client.get_flight_info(command(request))
    with pytest.raises(pa.ArrowInvalid, match="compression"):
        client.do_get(ticket(request, [0, 1])).read_all()
    assert client.get_flight_info(fl.FlightDescriptor.for_path("fix")).total_records == FIX.n_obs
