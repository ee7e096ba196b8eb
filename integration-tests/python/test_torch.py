"""The PyTorch example module: a tiny linear classifier trained for one epoch through DataLoader
workers (and through two distributed ranks); every row is seen exactly once per epoch, with the
values anndata reads; LZ4-compressed streams (the default) give the same tensors."""
import json
import os

import numpy as np
import pyarrow.flight as fl
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader

from annflight_torch import AnnflightDataset
from conftest import FIX_PATHS
from expected import Expected

REQUEST = {"collection": "fix", "rows_per_endpoint": 20}
EXP = Expected(FIX_PATHS, ["cell_type"], unknown_label="unknown")


def expected_y(rows) -> np.ndarray:
    codes = EXP.codes("cell_type")
    return np.array([-1 if codes[r] is None else codes[r] for r in rows])


def test_categories_leave_out_the_unknown_label(server):
    ds = AnnflightDataset(server.uri, REQUEST, "cell_type", unknown_label="unknown")
    assert ds.categories() == EXP.dictionary("cell_type")
    assert "unknown" not in ds.categories()


@pytest.mark.parametrize("shuffle", [False, True])
def test_one_epoch_through_two_workers_sees_every_row_once(server, shuffle):
    torch.manual_seed(0)
    ds = AnnflightDataset(server.uri, REQUEST, "cell_type", unknown_label="unknown",
                          shuffle=shuffle, return_index=True)
    classes = ds.categories()
    model = torch.nn.Linear(len(EXP.var_joint), len(classes))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    loader = DataLoader(ds, batch_size=16, num_workers=2, multiprocessing_context="spawn")
    seen, xs, ys = [], [], []
    for x, y, rows in loader:
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        assert torch.isfinite(loss) or (y == -1).all()
        seen.extend(rows.tolist())
        xs.append(x.numpy())
        ys.append(y.numpy())
    assert sorted(seen) == list(range(EXP.n_obs)), "every row exactly once per epoch"
    if not shuffle:  # endpoints go round-robin to the workers: not in collection order
        assert seen != list(range(EXP.n_obs))
    np.testing.assert_array_equal(np.concatenate(xs), EXP.X()[seen])
    np.testing.assert_array_equal(np.concatenate(ys), expected_y(seen))
    assert (np.concatenate(ys) == -1).any() and (np.concatenate(ys) >= 0).any()


def test_epochs_shuffle_differently_but_cover_the_same_rows(server):
    ds = AnnflightDataset(server.uri, REQUEST, "cell_type", shuffle=True, return_index=True)
    orders = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        orders.append([int(r) for _, _, r in ds])
    assert orders[0] != orders[1]
    assert sorted(orders[0]) == sorted(orders[1]) == list(range(EXP.n_obs))


def _rank(rank, world, init_file, uri, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        ds = AnnflightDataset(uri, REQUEST, "cell_type", unknown_label="unknown",
                              return_index=True)
        rows = [int(r) for _, _, r in ds]
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump(rows, f)
    finally:
        dist.destroy_process_group()


def test_distributed_ranks_split_the_endpoints(server, tmp_path):
    world = 2
    mp.spawn(_rank, args=(world, str(tmp_path / "init"), server.uri, str(tmp_path)),
             nprocs=world, join=True)
    per_rank = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    assert all(per_rank), "each rank read some rows"
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == list(range(EXP.n_obs))


def test_lz4_by_default_and_the_same_tensors_as_uncompressed(server):
    request = {**REQUEST, "rows_per_batch": 7}
    args = dict(label_key="cell_type", unknown_label="unknown", return_index=True)
    datasets = {"none": AnnflightDataset(server.uri, request, compression="none", **args),
                "lz4": AnnflightDataset(server.uri, request, **args)}  # the default
    with fl.connect(server.uri) as client:
        for codec, ds in datasets.items():
            assert {json.loads(ep.ticket.ticket)["request"].get("compression", "none")
                    for ep in ds.endpoints(client)} == {codec}
    got = {codec: list(ds) for codec, ds in datasets.items()}
    assert len(got["lz4"]) == len(got["none"]) == EXP.n_obs
    for (x, y, row), (x0, y0, row0) in zip(got["lz4"], got["none"]):
        assert x.dtype == x0.dtype == torch.float32
        assert torch.equal(x, x0) and torch.equal(y, y0) and int(row) == int(row0)
    rows = [int(r) for _, _, r in got["lz4"]]
    assert rows == list(range(EXP.n_obs))
    np.testing.assert_array_equal(np.stack([x.numpy() for x, _, _ in got["lz4"]]), EXP.X())
    np.testing.assert_array_equal(np.array([int(y) for _, y, _ in got["lz4"]]),
                                  expected_y(rows))
