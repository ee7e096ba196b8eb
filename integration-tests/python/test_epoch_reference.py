"""The server's epoch orders equal a pure-Python reimplementation written from
docs/reference/epochs.md (epoch_reference.py): shuffle, block_shuffle (small blocks and pools,
so stores end in short blocks), a split's parts, weighted draws with and without replacement
and equal parts, over the fixture collection's four stores. Expected store sizes and labels
come from anndata, not from the server."""
import json
from collections import Counter

import numpy as np
import pyarrow.flight as fl
import pytest

import epoch_reference as ref
from conftest import FIX_PATHS, READ_OPTIONS
from expected import Expected

EXP = Expected(FIX_PATHS, ["cell_type"])
N = EXP.n_obs
STORE = EXP.store_idx()


def served(client, **keys):
    req = {"paths": FIX_PATHS, "layers_keys": [], "return_index": True, **keys}
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)),
                                  READ_OPTIONS)
    return [r for ep in info.endpoints
            for r in client.do_get(ep.ticket, READ_OPTIONS).read_all()["_row"].to_pylist()]


@pytest.mark.parametrize("seed,epoch", [(0, 0), (7, 3), (-5, 2**40)])
def test_shuffle(client, seed, epoch):
    got = served(client, sampler={"kind": "shuffle", "seed": seed, "epoch": epoch})
    assert got == ref.shuffle(list(range(N)), seed, epoch)


@pytest.mark.parametrize("block_size,pool_blocks", [(4, 3), (7, 2), (64, 128), (1, 5)])
def test_block_shuffle(client, block_size, pool_blocks):
    sampler = {"kind": "block_shuffle", "seed": 11, "epoch": 1, "block_size": block_size,
               "pool_blocks": pool_blocks}
    got = served(client, sampler=sampler)
    assert got == ref.block_shuffle(list(range(N)), STORE, 11, 1, block_size, pool_blocks)


@pytest.mark.parametrize("part", ["train", "holdout"])
def test_split_then_samplers(client, part):
    split = {"holdout": 0.3, "seed": 4, "part": part}
    rows = ref.split_rows(N, 0.3, 4, part)
    assert served(client, split=split) == rows
    assert served(client, split=split, sampler={"kind": "shuffle", "seed": 2}) == \
        ref.shuffle(rows, 2, 0)
    assert served(client, split=split, sampler={
        "kind": "block_shuffle", "seed": 2, "block_size": 5, "pool_blocks": 2}) == \
        ref.block_shuffle(rows, STORE, 2, 0, 5, 2)
    # Weighted groups are built from the label weights streamed past the part's rows.
    assert served(client, split=split, sampler={
        "kind": "weighted", "seed": 6, "num_samples": 120,
        "weights": {"obs_keys": ["cell_type"], "scaler": None}}) == \
        ref.weighted(rows, STORE, label_weights(), 6, 0, 120)


def label_weights():
    """MappedCollection's get_label_weights(cell_type): 1 / the count of the row's label."""
    labels = ["nan" if v is None else str(v) for v in EXP.labels("cell_type")]
    counts = Counter(labels)
    return [1.0 / counts[v] for v in labels]


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted(client, replacement):
    sampler = {"kind": "weighted", "seed": 3, "epoch": 5, "num_samples": 150,
               "replacement": replacement,
               "weights": {"obs_keys": ["cell_type"], "scaler": None}}
    got = served(client, sampler=sampler)
    weights = label_weights()
    if replacement:
        want = ref.weighted(list(range(N)), STORE, weights, 3, 5, 150)
    else:
        want = ref.weighted_without_replacement(list(range(N)), weights, 3, 5, 150)
    assert got == want


def test_equal_parts_cut_one_order(client):
    for pad in (True, False):
        got = served(client, sampler={"kind": "shuffle", "seed": 1},
                     equal_parts={"count": 7, "remainder": "pad" if pad else "drop"})
        assert got == ref.equal_parts(ref.shuffle(list(range(N)), 1, 0), 7, pad)


def test_the_permutation_is_one_at_every_small_size():
    for n in range(0, 300):
        p = ref.Permutation(n, ref.state(1, 2, 1))
        assert sorted(p(x) for x in range(n)) == list(range(n))
