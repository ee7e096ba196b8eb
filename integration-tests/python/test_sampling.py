"""Epochs planned by the server, read from pyarrow: every row once per shuffled epoch with the
values anndata reads for it, block_shuffle's mixing figure at its defaults, a weighted epoch
that balances labels, a resumed epoch, and equal parts.

The collection is written here with anndata: 50,000 cells in two .h5ad files (the size of the
benchmark collection, so the mixing figure is the one the README quotes) with a small X.
"""
import json

import anndata
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as fl
import pytest

from conftest import READ_OPTIONS

N_PER_FILE, N_VARS = 25_000, 8
FILES = ["sampling_a.h5ad", "sampling_b.h5ad"]
LEVELS = ["rare", "common", "medium"]


@pytest.fixture(scope="module")
def collection(server):
    rng = np.random.default_rng(3)
    frames = []
    for k, name in enumerate(FILES):
        X = rng.integers(0, 50, (N_PER_FILE, N_VARS)).astype(np.float32)
        labels = rng.choice(LEVELS, N_PER_FILE, p=[0.02, 0.78, 0.2])
        obs = pd.DataFrame({"cell_type": pd.Categorical(labels)},
                           index=[f"{k}_{i}" for i in range(N_PER_FILE)])
        var = pd.DataFrame(index=[f"g{j}" for j in range(N_VARS)])
        anndata.AnnData(X=X, obs=obs, var=var).write_h5ad(server.root / name)
    for name in FILES:  # what anndata reads back, independently of the server
        ad = anndata.read_h5ad(server.root / name)
        frames.append((np.asarray(ad.X), ad.obs["cell_type"].astype(str).to_numpy()))
    X = np.concatenate([f[0] for f in frames])
    labels = np.concatenate([f[1] for f in frames])
    return X, labels


def epoch(client, **keys):
    """(_row, X, cell_type labels) of a whole epoch, endpoints in order."""
    req = {"paths": FILES, "obs_keys": ["cell_type"], "return_index": True, **keys}
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)), READ_OPTIONS)
    rows, xs, labels = [], [], []
    for ep in info.endpoints:
        t = client.do_get(ep.ticket, READ_OPTIONS).read_all()
        rows.append(t["_row"].to_numpy())
        x = t["X"].combine_chunks()
        xs.append(x.flatten().to_numpy().reshape(len(x), N_VARS))
        labels.append(np.asarray(t["cell_type"].combine_chunks().dictionary_decode()
                                 .to_pylist(), dtype=object))
    return info, np.concatenate(rows), np.concatenate(xs), np.concatenate(labels)


def mixing(rows, window=256, span=1000):
    n = len(rows) // window * window
    return np.mean([len(np.unique(w)) for w in (rows[:n] // span).reshape(-1, window)])


@pytest.mark.parametrize("sampler", [{"kind": "shuffle", "seed": 1, "epoch": 2},
                                     {"kind": "block_shuffle", "seed": 1, "epoch": 2}])
def test_a_shuffled_epoch_holds_every_row_once_with_its_values(client, collection, sampler):
    X, labels = collection
    info, rows, x, got_labels = epoch(client, sampler=sampler)
    assert info.total_records == len(X)
    assert np.array_equal(np.sort(rows), np.arange(len(X)))
    assert not np.array_equal(rows, np.arange(len(X)))
    np.testing.assert_array_equal(x, X[rows])
    assert list(got_labels) == list(labels[rows])
    _, again, _, _ = epoch(client, sampler=sampler)
    assert np.array_equal(again, rows)
    _, other, _, _ = epoch(client, sampler={**sampler, "epoch": 3})
    assert not np.array_equal(other, rows)


def test_block_shuffle_mixes_nearly_as_well_as_uniform_sampling(client, collection):
    uniform = mixing(np.random.default_rng(0).permutation(len(collection[0])))
    _, rows, _, _ = epoch(client, sampler={"kind": "block_shuffle", "seed": 7})
    assert uniform > 49
    assert mixing(rows) >= 0.8 * uniform  # the bound: at least 40 of 49.7


def test_weighted_epochs_balance_labels(client, collection):
    _, labels = collection
    sampler = {"kind": "weighted", "seed": 5, "num_samples": 30_000,
               "weights": {"obs_keys": ["cell_type"], "scaler": None}}
    _, rows, _, got = epoch(client, sampler=sampler)
    assert len(rows) == 30_000
    counts = {lv: int(np.sum(got == lv)) for lv in LEVELS}
    expected = 30_000 / len(LEVELS)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 13.82, counts  # chi-square, 2 degrees of freedom, p = 0.001
    # Sampled collection-wide, a rare label would have been drawn about 2 % of the time.
    assert counts["rare"] > 0.25 * 30_000


def test_an_epoch_resumes_at_any_position_and_splits_into_equal_parts(client, collection):
    sampler = {"kind": "block_shuffle", "seed": 11}
    _, rows, _, _ = epoch(client, sampler=sampler)
    req = {"paths": FILES, "return_index": True, "sampler": sampler}
    ticket = fl.Ticket(json.dumps({"request": req, "start": 12_345, "stop": len(rows)}).encode())
    resumed = client.do_get(ticket, READ_OPTIONS).read_all()["_row"].to_numpy()
    assert np.array_equal(resumed, rows[12_345:])
    info, parts_rows, _, _ = epoch(client, sampler=sampler,
                                   equal_parts={"count": 3, "remainder": "pad"})
    assert [ep_records(client, ep) for ep in info.endpoints] == [16_667] * 3
    assert np.array_equal(parts_rows[:len(rows)], rows)
    assert np.array_equal(parts_rows[len(rows):], rows[:1])


def ep_records(client, endpoint):
    return client.do_get(endpoint.ticket, READ_OPTIONS).read_all().num_rows


def test_bad_samplers_are_invalid_argument_naming_the_key(client, collection):
    for keys, name in [({"sampler": {"kind": "random"}}, "sampler.kind"),
                       ({"sampler": {"kind": "block_shuffle", "block_size": 0}},
                        "sampler.block_size"),
                       ({"split": {"holdout": 2}}, "split.holdout")]:
        req = {"paths": FILES, **keys}
        with pytest.raises(pa.ArrowInvalid, match=name):  # pyarrow's INVALID_ARGUMENT
            client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)))


def test_the_torch_dataset_shuffles_on_the_server(server, collection):
    from annflight.torch import AnnflightDataset
    ds = AnnflightDataset({"paths": FILES, "obs_keys": ["cell_type"]}, uri=server.uri,
                          batch_size=256, sampler={"kind": "block_shuffle"})
    rows = np.concatenate([b["_row"].numpy() for b in ds])
    assert np.array_equal(np.sort(rows), np.arange(len(collection[0])))
    uniform = mixing(np.random.default_rng(0).permutation(len(rows)))
    assert mixing(rows) >= 0.8 * uniform  # the issue measured 2.2 with client-side shuffling
