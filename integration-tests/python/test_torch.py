"""annflight.torch.AnnflightDataset (the package's PyTorch dataset): a tiny classifier trained
through DataLoader workers and through two distributed ranks; every row of an epoch is read by
exactly one part (padding aside), every part has the same number of rows and batches, values
are anndata's, LZ4 streams give the same tensors, and an epoch resumes from its state_dict."""
import json
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader

from annflight.torch import AnnflightDataset
from conftest import FIX_PATHS
from expected import Expected

REQUEST = {"collection": "fix", "obs_keys": ["cell_type"], "obsm_keys": [], "unknown_label": "unknown"}
EXP = Expected(FIX_PATHS, ["cell_type"], unknown_label="unknown")
EXP_PCA = Expected(FIX_PATHS, ["cell_type"], ["X_pca"], unknown_label="unknown")


def expected_y(rows) -> np.ndarray:
    codes = EXP.codes("cell_type")
    return np.array([-1 if codes[r] is None else codes[r] for r in rows])


def padded_epoch_covers_every_row(seen, parts):
    """Every row at least once; only the padding (fewer than `parts` rows) seen twice."""
    assert sorted(set(seen)) == list(range(EXP.n_obs))
    assert EXP.n_obs <= len(seen) < EXP.n_obs + parts
    assert len(seen) % parts == 0


@pytest.mark.parametrize("sampler", [None, {"kind": "block_shuffle", "block_size": 4,
                                            "pool_blocks": 4}])
def test_one_epoch_through_two_workers(server, sampler):
    torch.manual_seed(0)
    ds = AnnflightDataset(REQUEST, uri=server.uri, batch_size=16, sampler=sampler)
    model = torch.nn.Linear(len(EXP.var_joint), len(EXP.dictionary("cell_type")))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="spawn")
    seen, xs, ys, sizes = [], [], [], []
    for batch in loader:
        x, y = batch["X"], batch["cell_type"]
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        seen.extend(batch["_row"].tolist())
        xs.append(x.numpy())
        ys.append(y.numpy())
        sizes.append(len(y))
    padded_epoch_covers_every_row(seen, 2)
    per_part = len(seen) // 2
    assert sizes.count(16) == 2 * (per_part // 16)  # the same full batches in both parts
    np.testing.assert_array_equal(np.concatenate(xs), EXP.X()[seen])
    np.testing.assert_array_equal(np.concatenate(ys), expected_y(seen))
    assert (np.concatenate(ys) == -1).any() and (np.concatenate(ys) >= 0).any()
    if sampler is not None:
        assert seen[:per_part] != sorted(seen[:per_part])


def test_persistent_workers_serve_a_new_epoch_each_pass(server):
    sampler = {"kind": "shuffle"}
    ds = AnnflightDataset(REQUEST, uri=server.uri, batch_size=16, sampler=sampler)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="spawn",
                        persistent_workers=True)
    passes = []
    for epoch in range(3):
        ds.set_epoch(epoch)  # cannot reach the persistent workers' copies...
        passes.append([r for b in loader for r in b["_row"].tolist()])
    for seen in passes:
        padded_epoch_covers_every_row(seen, 2)
    # ...which advance by themselves: three different orders, each the one of its epoch.
    assert passes[0] != passes[1] != passes[2] != passes[0]
    for epoch, seen in enumerate(passes):
        fresh = AnnflightDataset(REQUEST, uri=server.uri, batch_size=16, sampler=sampler)
        fresh.set_epoch(epoch)
        again = [r for b in DataLoader(fresh, batch_size=None, num_workers=2,
                                       multiprocessing_context="spawn")
                 for r in b["_row"].tolist()]
        assert sorted(again) == sorted(seen) and again == seen


def test_epochs_differ_and_an_epoch_resumes_from_its_state(server):
    ds = AnnflightDataset(REQUEST, uri=server.uri, batch_size=10, sampler={"kind": "shuffle"},
                          seed=4)
    epochs = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        epochs.append([r for b in ds for r in b["_row"].tolist()])
    assert epochs[0] != epochs[1]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(EXP.n_obs))
    ds.set_epoch(1)
    it = iter(ds)
    first = [r for _ in range(3) for r in next(it)["_row"].tolist()]
    state = ds.state_dict()
    assert state == {"epoch": 1, "seed": 4, "positions": 30}
    resumed = AnnflightDataset(REQUEST, uri=server.uri, batch_size=10, sampler={"kind": "shuffle"})
    resumed.load_state_dict(state)
    rest = [r for b in resumed for r in b["_row"].tolist()]
    assert first + rest == epochs[1]


def test_lz4_gives_the_same_tensors_as_uncompressed(server):
    got = {}
    for codec in ("none", "lz4"):
        ds = AnnflightDataset({**REQUEST, "obsm_keys": ["X_pca"]}, uri=server.uri, batch_size=7,
                              compression=codec)
        assert ds.compression == codec
        got[codec] = list(ds)
    assert len(got["lz4"]) == len(got["none"]) == -(-EXP.n_obs // 7)
    for a, b in zip(got["lz4"], got["none"]):
        assert a.keys() == b.keys() == {"_store_idx", "_row", "X", "cell_type", "obsm_X_pca"}
        for k in a:
            assert torch.equal(a[k].nan_to_num(-7.0), b[k].nan_to_num(-7.0)), k
    # obsm rows of the store without X_pca (csc.h5ad) are NaN, the others anndata's.
    rows = np.concatenate([b["_row"].numpy() for b in got["lz4"]])
    pca = np.concatenate([b["obsm_X_pca"].numpy() for b in got["lz4"]])
    for r, got_row in zip(rows, pca):
        want = EXP_PCA.obsm("X_pca")[r]
        if want is None:
            assert np.isnan(got_row).all()
        else:
            np.testing.assert_allclose(got_row, want)


def _rank(rank, world, init_file, uri, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        ds = AnnflightDataset(REQUEST, uri=uri, batch_size=8, sampler={"kind": "block_shuffle"})
        batches = [b["_row"].tolist() for b in ds]
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump(batches, f)
    finally:
        dist.destroy_process_group()


def test_distributed_ranks_get_equal_disjoint_parts(server, tmp_path):
    world = 2
    mp.spawn(_rank, args=(world, str(tmp_path / "init"), server.uri, str(tmp_path)),
             nprocs=world, join=True)
    per_rank = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    assert len(per_rank[0]) == len(per_rank[1]), "equal batch counts: no rank waits"
    rows = [[r for b in batches for r in b] for batches in per_rank]
    assert len(rows[0]) == len(rows[1])
    padded_epoch_covers_every_row(rows[0] + rows[1], world)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stateful_dataloader_resumes_the_epoch(server, workers):
    from torchdata.stateful_dataloader import StatefulDataLoader

    def loader(ds):
        extra = {"multiprocessing_context": "spawn"} if workers else {}
        return StatefulDataLoader(ds, batch_size=None, num_workers=workers, **extra)

    def dataset():
        ds = AnnflightDataset(REQUEST, uri=server.uri, batch_size=8, sampler={"kind": "shuffle"},
                              seed=2)
        ds.set_epoch(5)
        return ds

    whole = [b["_row"].tolist() for b in loader(dataset())]
    first = loader(dataset())
    it = iter(first)
    head = [next(it)["_row"].tolist() for _ in range(5)]
    state = first.state_dict()
    del it
    second = loader(dataset())
    second.load_state_dict(state)
    rest = [b["_row"].tolist() for b in second]
    assert head + rest == whole


def _handed_over(batch):
    """The batch as the main process receives it from a DataLoader worker (torch's pickler,
    storages as shared memory); here within one process."""
    from multiprocessing.reduction import ForkingPickler
    import torch.multiprocessing  # noqa: F401  (registers torch's reductions)
    return ForkingPickler.loads(ForkingPickler.dumps(batch))


def _record_batch(first_row, n=32, n_vars=3000):
    import pyarrow as pa
    x = (np.arange(n * n_vars, dtype=np.float32) + first_row).reshape(n, n_vars)
    return pa.RecordBatch.from_arrays(
        [pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), n_vars),
         pa.array(np.arange(first_row, first_row + n))], ["X", "_row"]), x


def test_worker_batches_reuse_shared_slots_only_once_released():
    from annflight.torch import _tensors
    ring = _fresh_ring()
    batch, x = _record_batch(0)
    held = _handed_over(_tensors(batch, shared=True))
    assert type(held) is dict and len(ring._slots) == 1
    np.testing.assert_array_equal(held["X"].numpy(), x)
    # While the first batch is held, the next is built elsewhere and the first is intact.
    batch2, x2 = _record_batch(10_000)
    second = _handed_over(_tensors(batch2, shared=True))
    assert len(ring._slots) == 2
    np.testing.assert_array_equal(held["X"].numpy(), x)
    np.testing.assert_array_equal(second["X"].numpy(), x2)
    # Kept small tensors (row numbers) are copies and hold no slot; X held the first slot.
    rows = second["_row"]
    del second
    third = _handed_over(_tensors(_record_batch(20_000)[0], shared=True))
    assert len(ring._slots) == 2, "the released slot was reused"
    np.testing.assert_array_equal(rows.numpy(), np.arange(10_000, 10_032))
    np.testing.assert_array_equal(held["X"].numpy(), x)
    np.testing.assert_array_equal(third["_row"].numpy(), np.arange(20_000, 20_032))
    del held, third


def test_worker_batches_survive_copies_and_foreign_values():
    import copy
    from annflight.torch import _tensors
    ring = _fresh_ring()
    batch, x = _record_batch(0)
    built = _tensors(batch, shared=True)
    # DataLoader's default_convert copies the mapping: the copy is handed over as the batch.
    copied = copy.copy(built)
    assert type(copied) is type(built)
    del built
    got = _handed_over(copied)
    np.testing.assert_array_equal(got["X"].numpy(), x)
    # A collate step that replaced a tensor: the batch goes over as a plain dict, and its slot
    # is never reused (the values it holds stay as they were).
    foreign = _tensors(_record_batch(5)[0], shared=True)
    foreign["y"] = torch.zeros(3)
    plain = _handed_over(foreign)
    del foreign
    np.testing.assert_array_equal(plain["X"].numpy(), _record_batch(5)[1])
    assert set(plain) == {"X", "_row", "y"}
    tagged = _tensors(_record_batch(5)[0], shared=True)
    tagged["source"] = "not a tensor"
    assert _handed_over(tagged)["source"] == "not a tensor"
    deep = copy.deepcopy(_tensors(batch, shared=True))
    assert type(deep) is dict
    np.testing.assert_array_equal(deep["X"].numpy(), x)
    for _ in range(3):
        _handed_over(_tensors(batch, shared=True))
    np.testing.assert_array_equal(plain["X"].numpy(), _record_batch(5)[1])
    np.testing.assert_array_equal(got["X"].numpy(), x)


SPARSE_PATHS = ["csr.zarr", "csc.h5ad"]  # both store X sparse


def _epoch(ds, workers=0):
    extra = {"multiprocessing_context": "spawn"} if workers else {}
    return list(DataLoader(ds, batch_size=None, num_workers=workers, **extra))


def _same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k].layout == torch.strided and x[k].dtype == y[k].dtype, k
            assert torch.equal(x[k].nan_to_num(-7.0), y[k].nan_to_num(-7.0)), k


def test_dense_tensors_travel_as_csr_rows_when_every_store_is_sparse(server):
    sparse = {"paths": SPARSE_PATHS, "obs_keys": ["cell_type"], "obsm_keys": []}
    auto = AnnflightDataset(sparse, uri=server.uri, batch_size=16)
    got = _epoch(auto)
    assert auto._densify is True
    rows = np.concatenate([b["_row"].numpy() for b in got])
    np.testing.assert_array_equal(np.concatenate([b["X"].numpy() for b in got]),
                                  Expected(SPARSE_PATHS, ["cell_type"]).X()[rows])
    _same_batches(got, _epoch(AnnflightDataset(sparse, uri=server.uri, batch_size=16,
                                               transport="dense")))
    # A dense store among them: dense rows (with LZ4) are the cheaper wire format.
    mixed = AnnflightDataset(REQUEST, uri=server.uri, batch_size=16)
    _same_batches(_epoch(mixed), _epoch(AnnflightDataset(REQUEST, uri=server.uri, batch_size=16,
                                                         transport="csr")))
    assert mixed._densify is False
    with pytest.raises(ValueError, match="transport"):
        AnnflightDataset(sparse, uri=server.uri, transport="coo")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_csr_rows_scattered_into_tensors_keep_dtypes_and_missing_layers(server, dtype):
    # The counts layer is in dense.h5ad alone: the other stores' rows are NaN (as over dense
    # rows), which an integer tensor cannot hold, refused the same way on both wires.
    request = {**REQUEST, "layers_keys": ["X", "counts"], "dtype": dtype}
    by_wire = {}
    for transport in ("dense", "csr"):
        ds = AnnflightDataset(request, uri=server.uri, batch_size=16, transport=transport)
        if dtype == "int32":
            with pytest.raises(ValueError, match="counts"):
                _epoch(ds)
        else:
            by_wire[transport] = _epoch(ds)
    if by_wire:
        _same_batches(by_wire["dense"], by_wire["csr"])
        assert by_wire["csr"][0]["X"].dtype == getattr(torch, dtype)
        counts = torch.cat([b["counts"] for b in by_wire["csr"]])
        assert counts.isnan().all(dim=1).any() and not counts.isnan().all()


def test_csr_rows_through_two_workers_equal_dense_rows(server):
    sparse = {"paths": SPARSE_PATHS, "obs_keys": ["cell_type"], "obsm_keys": []}
    _same_batches(_epoch(AnnflightDataset(sparse, uri=server.uri, batch_size=16), 2),
                  _epoch(AnnflightDataset(sparse, uri=server.uri, batch_size=16,
                                          transport="dense"), 2))


def test_a_slot_is_handed_over_once_and_dropped_when_the_worker_forgets_it():
    import annflight.torch as at
    ring = _fresh_ring()
    batch, x = _record_batch(0)
    first = _tensors_shared(batch)
    assert first.__reduce__()[1][2] is not None  # the storage itself, the first time
    got = _handed_over(first)
    del got, first
    again = _tensors_shared(batch)
    token, slot_id, storage, _, _ = again.__reduce__()[1]
    assert storage is None, "the main process holds the slot already"
    np.testing.assert_array_equal(_handed_over(again)["X"].numpy(), x)
    # Batches kept beyond the ring's size: the worker forgets its oldest slots and the main
    # process drops them with the next batch (the kept batches keep their own memory).
    kept = [_handed_over(_tensors_shared(_record_batch(i)[0]))
            for i in range(at._SharedRing._MAX_SLOTS + 3)]
    assert len(ring._slots) == at._SharedRing._MAX_SLOTS
    assert len(at._RECEIVED[token]) <= at._SharedRing._MAX_SLOTS + 1
    for i, b in enumerate(kept):
        np.testing.assert_array_equal(b["X"].numpy(), _record_batch(i)[1])


def _fresh_ring():
    """This process's ring, new (as in a new DataLoader worker)."""
    import annflight.torch as at
    at._SharedRing._this_process = None
    return at._SharedRing.of_this_process()


def _tensors_shared(batch):
    from annflight.torch import _tensors
    return _tensors(batch, shared=True)


def test_batches_built_in_this_process_reuse_a_slot_once_dropped():
    # No workers: a minibatch's large tensors share a slot of this process's own ring, free
    # again when the consumer has dropped every tensor of that batch; small ones (_row) have
    # memory of their own. Kept batches are never overwritten, whatever their number.
    import gc
    import annflight.torch as at
    at._SharedRing._local = None
    ring = at._SharedRing.local()
    for i in range(5):  # one batch at a time, as a training loop consumes them
        b = at._tensors(_record_batch(i)[0])
        np.testing.assert_array_equal(b["X"].numpy(), _record_batch(i)[1])
        np.testing.assert_array_equal(b["_row"].numpy(), np.arange(i, i + 32))
        del b
        gc.collect()
    assert len(ring._slots) == 1, "a dropped batch's slot is reused"
    # A batch larger than the free slot takes a new one beside it.
    big = at._tensors(_record_batch(0, n=128)[0])
    np.testing.assert_array_equal(big["X"].numpy(), _record_batch(0, n=128)[1])
    assert len(ring._slots) == 2
    del big
    row = at._tensors(_record_batch(0)[0])["_row"]  # a kept small tensor holds no slot
    kept = [at._tensors(_record_batch(i)[0]) for i in range(ring._max_slots + 3)]
    assert len(ring._slots) == ring._max_slots
    for i, b in enumerate(kept):
        np.testing.assert_array_equal(b["X"].numpy(), _record_batch(i)[1])
    np.testing.assert_array_equal(row.numpy(), np.arange(32))
    del kept, b
    gc.collect()
    assert all(at._header(s)[at._STATE] == at._SLOT_FREE for s in ring._slots)
