"""Client.batches' read-ahead (annflight.client.streamed_ahead) on endpoints played by
generators: batches come in endpoint order, no endpoint runs more than AHEAD_BATCHES batches
ahead of the reader whatever the threads' pace, a failure is raised where it happened, and
closing the reader ends every endpoint's read. No server; nothing here depends on timing
(waits only bound how long a test may hang)."""
import threading

import pyarrow as pa
import pytest

from annflight.client import AHEAD_BATCHES, streamed_ahead

WAIT_S = 60  # a bound on hanging, never a figure a result depends on


class Endpoints:
    """Endpoint e yields `sizes[e]` one-row batches valued (e, k); counts what each has
    produced and whether its read was closed."""

    def __init__(self, sizes, fail_at=None):
        self.sizes = sizes
        self.fail_at = fail_at
        self.produced = [0] * len(sizes)
        self.started = [threading.Event() for _ in sizes]
        self.closed = [threading.Event() for _ in sizes]
        self.lock = threading.Lock()

    def read(self, e):
        try:
            for k in range(self.sizes[e]):
                if self.fail_at == (e, k):
                    raise RuntimeError(f"endpoint {e} failed at batch {k}")
                with self.lock:
                    self.produced[e] += 1
                self.started[e].set()
                yield pa.record_batch({"e": [e], "k": [k]})
        finally:
            self.closed[e].set()


def value(batch):
    return batch.column("e")[0].as_py(), batch.column("k")[0].as_py()


def test_batches_come_in_endpoint_order_with_a_bounded_read_ahead():
    eps = Endpoints([7, 1, 9, 0, 5, 6])
    seen = []
    for batch in streamed_ahead(list(range(6)), eps.read, 3):
        seen.append(value(batch))
        e, k = seen[-1]
        with eps.lock:
            for other in range(len(eps.sizes)):
                consumed = sum(1 for v in seen if v[0] == other)
                # in the queue, plus one in the thread's hand waiting for room
                assert eps.produced[other] - consumed <= AHEAD_BATCHES + 1, (other, seen)
    assert seen == [(e, k) for e, n in enumerate(eps.sizes) for k in range(n)]


def test_a_failure_is_raised_where_it_happened():
    eps = Endpoints([3, 4, 2], fail_at=(1, 2))
    seen = []
    with pytest.raises(RuntimeError, match="endpoint 1 failed at batch 2"):
        for batch in streamed_ahead(list(range(3)), eps.read, 2):
            seen.append(value(batch))
    assert seen == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]


def test_closing_the_reader_ends_every_read():
    eps = Endpoints([50, 50, 50])
    batches = streamed_ahead(list(range(3)), eps.read, 3)
    assert value(next(batches)) == (0, 0)
    for e in range(3):  # every endpoint's read is under way
        assert eps.started[e].wait(WAIT_S), f"endpoint {e}'s read did not start"
    batches.close()
    for e in range(3):
        assert eps.closed[e].wait(WAIT_S), f"endpoint {e}'s read was not closed"
    assert all(n < 50 for n in eps.produced)


def test_no_endpoints():
    assert list(streamed_ahead([], Endpoints([]).read, 4)) == []
