"""An atlas-sized collection: 20,000,000 rows (10 stores of 2,000,000; 4 written with h5py in
anndata's encoding, the others hard links to them) served by a server JVM at -Xmx1g. Every
answer is checked against what the generator wrote (atlas_data.py computes any row from its
position), never against the server; the samplers' orders against epoch_reference.py (the
algorithms of docs/reference/epochs.md, reimplemented without the server's code) over windows
of positions, since a whole epoch of 20M rows in Python would take too long.

The ``atlas`` fixture (session scope) holds the collection and its server: a test of another
request over the same rows (a sampler, a split, equal_parts) takes it and compares its rows with
``atlas.data.dense(positions)`` / ``atlas.data.codes(positions)``.
"""
import json
import re
import time
import urllib.request
from dataclasses import dataclass
from typing import List

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import pytest

import annflight
from atlas_data import CATEGORIES, OBS_KEY, Atlas
from conftest import READ_OPTIONS, start_jar, stop_jar
from epoch_reference import Permutation, alias_table, mix, output, state, unit

N_STORES = 10
ROWS_PER_STORE = 2_000_000
DISTINCT_STORES = 4
N_VARS = 8
HEAP = "-Xmx1g"
OBS_CACHE_MB = 64


@dataclass
class AtlasServer:
    data: Atlas
    uri: str
    process: object
    log: List[str]
    metrics_url: str

    @property
    def request(self) -> dict:
        """The whole collection with cell_type encoded (a copy to extend)."""
        return {"paths": list(self.data.names), "obs_keys": [OBS_KEY]}

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return kb / 1024

    def metric(self, name: str) -> float:
        text = urllib.request.urlopen(self.metrics_url, timeout=30).read().decode()
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        assert m, f"{name} not in /metrics"
        return float(m.group(1))


@pytest.fixture(scope="session")
def atlas(tmp_path_factory):
    root = tmp_path_factory.mktemp("atlas")
    data = Atlas(root, N_STORES, ROWS_PER_STORE, N_VARS, distinct=DISTINCT_STORES)
    t0 = time.monotonic()
    data.write()
    print(f"\natlas: {data.n_obs:,} rows written in {time.monotonic() - t0:.1f} s")
    proc, uri, log = start_jar(["--data-root", str(root), "--obs-cache-mb", str(OBS_CACHE_MB),
                                "--metrics-port", "0"], jvm_args=[HEAP])
    try:
        port = next(re.search(r"metrics on http://\S+:(\d+)/metrics", line).group(1)
                    for line in log if "metrics on" in line)
        yield AtlasServer(data, uri, proc, log, f"http://127.0.0.1:{port}/metrics")
    finally:
        stop_jar(proc)
        data.remove()


@pytest.fixture(scope="session")
def atlas_client(atlas):
    with annflight.connect(atlas.uri) as c:
        yield c


def x_matrix(column) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return arr.flatten().to_numpy(zero_copy_only=False).reshape(-1, N_VARS)


def label_codes(column) -> np.ndarray:
    """Dictionary indices (-1 for null) of an encoded label column; its dictionary must be the
    merged categories."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = []
    for chunk in chunks:
        assert chunk.dictionary.to_pylist() == CATEGORIES
        out.append(chunk.indices.fill_null(-1).to_numpy())
    return np.concatenate(out) if out else np.array([], dtype=np.int64)


def assert_rows(table: pa.Table, data: Atlas, positions: np.ndarray):
    np.testing.assert_array_equal(x_matrix(table["X"]), data.dense(positions))
    np.testing.assert_array_equal(label_codes(table[OBS_KEY]), data.codes(positions))
    np.testing.assert_array_equal(table["_store_idx"].to_numpy(),
                                  positions // data.rows_per_store)


def ipc_action(client, name: str, body: dict) -> (pa.Table, int):
    """A per-row action's answer and the number of results it came in."""
    pieces = [r.body for r in client.do_action(fl.Action(name, json.dumps(body).encode()))]
    sink = pa.BufferOutputStream()
    for p in pieces:
        sink.write(p)
    return pa.ipc.open_stream(sink.getvalue()).read_all(), len(pieces)


def test_the_generator_writes_what_anndata_reads(tmp_path):
    """The formulas the other tests check against are what anndata 0.8 reads from the files
    (store 2 a hard link to store 0)."""
    import anndata
    small = Atlas(tmp_path, 3, 1500, N_VARS, distinct=2)
    small.write()
    for s, path in enumerate(small.paths):
        ad = anndata.read_h5ad(path)
        positions = np.arange(s * 1500, (s + 1) * 1500)
        np.testing.assert_array_equal(ad.X.toarray(), small.dense(positions))
        assert list(ad.obs[OBS_KEY].cat.categories) == CATEGORIES
        np.testing.assert_array_equal(ad.obs[OBS_KEY].cat.codes.to_numpy(),
                                      small.codes(positions))
        g = small.global_row(positions)
        assert list(ad.obs_names) == [f"c{i:09d}" for i in g]


def test_shape_answers_without_reading_obs(atlas, atlas_client):
    t0 = time.monotonic()
    shape = atlas_client.shape({"paths": list(atlas.data.names)})
    print(f"\nshape {shape} first answer in {time.monotonic() - t0:.2f} s at {HEAP}")
    assert shape == (atlas.data.n_obs, N_VARS)


def test_sequential_reads_equal_the_generator(atlas, atlas_client):
    request = {**atlas.request, "return_index": True}
    next_row = 0
    t0 = time.monotonic()
    for batch in atlas_client.batches(request):
        table = pa.Table.from_batches([batch])
        rows = table["_row"].to_numpy()
        np.testing.assert_array_equal(rows, np.arange(next_row, next_row + len(rows)))
        assert_rows(table, atlas.data, rows)
        next_row += len(rows)
    seconds = time.monotonic() - t0
    assert next_row == atlas.data.n_obs
    print(f"\nsequential: {next_row:,} rows checked in {seconds:.1f} s; server RSS "
          f"{atlas.rss_mib():.0f} MiB")


def test_index_tickets_at_scattered_positions(atlas, atlas_client):
    n = atlas.data.n_obs
    rng = np.random.default_rng(25)
    boundaries = np.arange(1, N_STORES) * ROWS_PER_STORE
    positions = np.concatenate([rng.integers(0, n, 3000), boundaries, boundaries - 1, [0, n - 1],
                                rng.integers(0, n, 20)[[0, 0, 1]]])  # duplicates too
    rng.shuffle(positions)
    table = atlas_client.do_get({"request": atlas.request, "indices": positions.tolist()})
    assert_rows(table, atlas.data, positions)


def test_range_tickets_across_store_boundaries(atlas, atlas_client):
    for start in (ROWS_PER_STORE - 700, 5 * ROWS_PER_STORE - 3, atlas.data.n_obs - 1000):
        stop = min(start + 1500, atlas.data.n_obs)
        table = atlas_client.do_get({"request": atlas.request, "start": start, "stop": stop})
        assert_rows(table, atlas.data, np.arange(start, stop))


def test_label_weights_stream_over_every_row(atlas, atlas_client):
    t0 = time.monotonic()
    weights = atlas_client.get_label_weights(atlas.request, OBS_KEY)
    seconds = time.monotonic() - t0
    codes = atlas.data.codes(np.arange(atlas.data.n_obs))
    counts = np.bincount(codes + 1, minlength=len(CATEGORIES) + 1)
    np.testing.assert_array_equal(weights, 1.0 / counts[codes + 1])
    by_label = atlas_client.get_label_weights(atlas.request, OBS_KEY, return_categories=True)
    labels = ["nan"] + CATEGORIES
    assert by_label == {labels[c]: 1.0 / counts[c] for c in range(len(labels)) if counts[c]}
    print(f"\nlabel weights of {len(weights):,} rows in {seconds:.1f} s")


def test_merged_labels_stream_over_every_row(atlas):
    client = fl.connect(atlas.uri)
    try:
        table, pieces = ipc_action(client, "get_merged_labels",
                                   {**atlas.request, "args": {"label_key": OBS_KEY}})
    finally:
        client.close()
    assert pieces > 1, "an answer of 20M labels comes in several results"
    column = table[OBS_KEY].combine_chunks()
    assert len(column) == atlas.data.n_obs
    got = column.dictionary_encode()
    index = np.array([CATEGORIES.index(v) for v in got.dictionary.to_pylist()])
    np.testing.assert_array_equal(
        np.where(got.indices.is_null().to_numpy(zero_copy_only=False), -1,
                 index[got.indices.fill_null(0).to_numpy()]),
        atlas.data.codes(np.arange(atlas.data.n_obs)))


def test_obs_filter_selects_the_generators_rows(atlas, atlas_client):
    wanted = ["type_03", "type_11"]
    request = {**atlas.request, "obs_filter": {OBS_KEY: wanted}}
    codes = atlas.data.codes(np.arange(atlas.data.n_obs))
    kept = np.nonzero(np.isin(codes, [CATEGORIES.index(w) for w in wanted]))[0]
    assert atlas_client.shape(request) == (len(kept), N_VARS)
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(kept), 2000)
    table = atlas_client.do_get({"request": request, "indices": picks.tolist()})
    np.testing.assert_array_equal(x_matrix(table["X"]), atlas.data.dense(kept[picks]))
    np.testing.assert_array_equal(label_codes(table[OBS_KEY]), atlas.data.codes(kept[picks]))


def test_var_names_project_rows_at_scattered_positions(atlas, atlas_client):
    # Two of the 8 genes, in another order, and one no store has (its column is zeros).
    request = {**atlas.request, "var_names": ["g5", "g0", "nope"]}
    positions = np.random.default_rng(11).integers(0, atlas.data.n_obs, 2000)
    table = atlas_client.do_get({"request": request, "indices": positions.tolist()})
    x = table["X"].combine_chunks()
    got = x.flatten().to_numpy(zero_copy_only=False).reshape(-1, 3)
    dense = atlas.data.dense(positions)
    np.testing.assert_array_equal(got, np.stack([dense[:, 5], dense[:, 0],
                                                 np.zeros(len(positions))], axis=1))


def test_obs_columns_stay_within_the_cache_budget(atlas, atlas_client):
    atlas_client.shape(atlas.request)  # plans the labels: every store's cell_type read
    held = atlas.metric("annflight_obs_cache_bytes")
    # 10 stores x 2M one-byte codes: held, and within --obs-cache-mb.
    assert N_STORES * ROWS_PER_STORE <= held <= OBS_CACHE_MB << 20
    print(f"\nobs cache {held / 2**20:.1f} MiB; server RSS {atlas.rss_mib():.0f} MiB")


# Samplers, split and equal_parts over the 20M rows: each answers GetFlightInfo at -Xmx1g, and a
# window of positions serves exactly the rows the documented algorithm gives, with the
# generator's values.

def epoch_window(atlas, atlas_client, request: dict, start: int, stop: int) -> np.ndarray:
    """The collection rows at positions [start, stop) of the epoch, their values checked."""
    table = atlas_client.do_get({"request": request, "start": start, "stop": stop})
    rows = table["_row"].to_numpy()
    assert len(rows) == stop - start
    assert_rows(table, atlas.data, rows)
    return rows


def sampled(atlas, sampler: dict, **extra) -> dict:
    return {**atlas.request, "return_index": True, "sampler": sampler, **extra}


def test_shuffle_window_is_the_keyed_permutation(atlas, atlas_client):
    n = atlas.data.n_obs
    request = sampled(atlas, {"kind": "shuffle", "seed": 25, "epoch": 3})
    t0 = time.monotonic()
    info = atlas_client.info(request)
    print(f"\nshuffle of {n:,} rows planned in {time.monotonic() - t0:.2f} s")
    assert info.total_records == n
    perm = Permutation(n, state(25, 3, 1))
    for start in (0, 12_345_678, n - 1500):
        rows = epoch_window(atlas, atlas_client, request, start, start + 1500)
        np.testing.assert_array_equal(rows, [perm(p) for p in range(start, start + 1500)])
        assert len(set(rows.tolist())) == len(rows)
        assert len(set((rows // ROWS_PER_STORE).tolist())) == N_STORES  # mixes every store


def test_block_shuffle_pool_is_whole_blocks_in_the_documented_order(atlas, atlas_client):
    n, block, pool_blocks = atlas.data.n_obs, 64, 128
    assert ROWS_PER_STORE % block == 0  # no short block: block b is rows [64 b, 64 b + 64)
    request = sampled(atlas, {"kind": "block_shuffle", "seed": 7, "epoch": 1})
    t0 = time.monotonic()
    info = atlas_client.info(request)
    print(f"\nblock_shuffle of {n:,} rows planned in {time.monotonic() - t0:.2f} s")
    assert info.total_records == n
    base = state(7, 1, 2)
    blocks = Permutation(n // block, base)
    pool_rows = block * pool_blocks
    for j in (0, 1000, n // pool_rows - 1):
        pool = [b * block + i for t in range(j * pool_blocks, (j + 1) * pool_blocks)
                for b in [blocks(t)] for i in range(block)]
        inner = Permutation(len(pool), mix(base ^ (j + 1)))
        rows = epoch_window(atlas, atlas_client, request, j * pool_rows, (j + 1) * pool_rows)
        np.testing.assert_array_equal(rows, [pool[inner(q)] for q in range(len(pool))])
        assert sorted(rows.tolist()) == sorted(pool)  # the pool: 128 whole blocks
        assert len(set((rows // ROWS_PER_STORE).tolist())) > 1


def test_weighted_draws_follow_the_alias_table_over_store_label_groups(atlas, atlas_client):
    n, seed, epoch, samples = atlas.data.n_obs, 3, 2, 1_000_000
    codes = atlas.data.codes(np.arange(n))
    counts = np.bincount(codes + 1, minlength=len(CATEGORIES) + 1)
    weights = 1.0 / counts[codes + 1]  # get_label_weights(cell_type), scaler None
    del codes
    groups = []  # (weight, members): store by store, weights in order of first appearance
    for s in range(N_STORES):
        w = weights[s * ROWS_PER_STORE:(s + 1) * ROWS_PER_STORE]
        values, first = np.unique(w, return_index=True)
        for value in values[np.argsort(first)]:
            groups.append((float(value), np.nonzero(w == value)[0] + s * ROWS_PER_STORE))
    del weights
    keep, alias = alias_table([len(m) * w for w, m in groups])
    request = sampled(atlas, {"kind": "weighted", "seed": seed, "epoch": epoch,
                              "num_samples": samples,
                              "weights": {"obs_keys": [OBS_KEY], "scaler": None}})
    t0 = time.monotonic()
    info = atlas_client.info(request)
    print(f"\nweighted over {n:,} rows planned in {time.monotonic() - t0:.2f} s; server RSS "
          f"{atlas.rss_mib():.0f} MiB")
    assert info.total_records == samples
    st, start, stop = state(seed, epoch, 3), 400_000, 403_000
    expected = []
    for p in range(start, stop):
        h0, h1, h2 = (output(st, 3 * p + i) for i in range(3))
        c = min(len(groups) - 1, int(unit(h0) * len(groups)))
        members = groups[c if unit(h1) < keep[c] else alias[c]][1]
        expected.append(members[min(len(members) - 1, int(unit(h2) * len(members)))])
    rows = epoch_window(atlas, atlas_client, request, start, stop)
    np.testing.assert_array_equal(rows, expected)
    # Label-balanced: the 21 labels (missing included) about equally often.
    drawn = np.bincount(atlas.data.codes(rows) + 1, minlength=len(CATEGORIES) + 1)
    expect = len(rows) / len(drawn)
    assert ((drawn - expect) ** 2 / expect).sum() < 60  # chi-square, 20 df: p < 1e-5


def split_holdout(n: int, holdout: float, seed: int) -> np.ndarray:
    """Whether each row is held out (unit(mix(seed) ^ mix(row)) < holdout), vectorised."""
    def mix_np(z):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
    bits = np.uint64(mix(seed)) ^ mix_np(np.arange(n, dtype=np.uint64))
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 < holdout


def test_split_parts_and_equal_parts_of_a_shuffled_holdout(atlas, atlas_client):
    n, holdout, seed = atlas.data.n_obs, 0.25, 9
    held = np.nonzero(split_holdout(n, holdout, seed))[0]
    m = len(held)
    split = {"holdout": holdout, "seed": seed}
    for part, rows in (("holdout", m), ("train", n - m)):
        info = atlas_client.info({**atlas.request, "split": {**split, "part": part}})
        assert info.total_records == rows
    request = sampled(atlas, {"kind": "shuffle", "seed": 1, "epoch": 0},
                      split={**split, "part": "holdout"},
                      equal_parts={"count": 3, "remainder": "pad"})
    t0 = time.monotonic()
    info = atlas_client.info(request)
    print(f"\nsplit of {n:,} rows, shuffled, in 3 equal parts: planned in "
          f"{time.monotonic() - t0:.2f} s")
    per = -(-m // 3)
    assert m % 3 != 0, "the padding is checked below"
    assert info.total_records == 3 * per
    tickets = [json.loads(ep.ticket.ticket) for ep in info.endpoints]
    assert [(t["start"], t["stop"]) for t in tickets] == [(i * per, (i + 1) * per)
                                                          for i in range(3)]
    perm = Permutation(m, state(1, 0, 1))
    # Each part's first rows, and the last part's end where the padding repeats the epoch's
    # first positions.
    for start in [i * per for i in range(3)] + [3 * per - 1000]:
        rows = epoch_window(atlas, atlas_client, request, start, start + 1000)
        np.testing.assert_array_equal(rows, held[[perm(p % m) for p in range(start,
                                                                             start + 1000)]])
