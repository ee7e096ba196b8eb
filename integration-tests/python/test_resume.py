"""Elastic resume of the torch dataset: a shuffled epoch consumed by 4 ranks x 2 DataLoader
workers is stopped mid-way, its state (epoch, seed, global positions) taken, and continued by
2 ranks x 1 worker: every row once (and the padding of the new layout, the epoch's first
positions again), each step's rows where the layout says. Ranks are simulated in this process
(the (rank, world) a spawned worker would be sent), one after the other; the expected order
is the server's epoch read with pyarrow. Also: a state taken without workers resumed with
three, and a Lightning run resumed from a mid-epoch checkpoint with more workers."""
import json

import pyarrow.flight as fl
import pytest

from annflight.torch import AnnflightDataset, AnnflightLoader
from conftest import READ_OPTIONS

REQUEST = {"collection": "fix", "obs_keys": ["cell_type"], "unknown_label": "unknown"}
SAMPLER = {"kind": "shuffle", "seed": 6, "epoch": 2}
BATCH = 4


def served_rows(client, **keys):
    req = {**REQUEST, "layers_keys": [], "return_index": True, **keys}
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)),
                                  READ_OPTIONS)
    return [r for ep in info.endpoints
            for r in client.do_get(ep.ticket, READ_OPTIONS).read_all()["_row"].to_pylist()]


def dataset(uri, rank, world):
    ds = AnnflightDataset(REQUEST, uri=uri, batch_size=BATCH, sampler={"kind": "shuffle"},
                          seed=6)
    ds._dist = (rank, world)  # what a process of a process group hands its workers
    ds.set_epoch(2)
    return ds


def test_a_state_of_4_ranks_x_2_workers_continues_on_2_ranks_x_1_worker(server, client):
    order = served_rows(client, sampler=SAMPLER)
    n = len(order)
    steps = 5
    first, states = [], []
    for rank in range(4):
        ds = dataset(server.uri, rank, 4)
        it = iter(AnnflightLoader(ds, num_workers=2))
        batches = [next(it)["_row"].tolist() for _ in range(steps)]
        states.append(ds.state_dict())
        del it
        # Step t of rank r is global batch t * world + r.
        assert batches == [order[(t * 4 + rank) * BATCH:(t * 4 + rank + 1) * BATCH]
                           for t in range(steps)]
        first += [r for b in batches for r in b]
    consumed = steps * 4 * BATCH
    assert states == [{"epoch": 2, "seed": 6, "positions": consumed}] * 4
    assert sorted(first) == sorted(order[:consumed])

    rest, counts = [], []
    for rank in range(2):
        ds = dataset(server.uri, rank, 2)
        ds.load_state_dict(states[0])
        batches = [b["_row"].tolist() for b in AnnflightLoader(ds, num_workers=1)]
        counts.append(len(batches))
        rest += [r for b in batches for r in b]
        assert ds.state_dict()["positions"] == n  # the epoch done
    assert counts[0] == counts[1], "equal batch counts: no rank waits"
    pad = -(n - consumed) % 2
    assert sorted(rest) == sorted(order[consumed:] + order[:pad])
    assert sorted(set(first + rest)) == sorted(order) == list(range(n))
    assert len(first) + len(rest) == n + pad


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("drop_last", [False, True])
def test_a_state_taken_in_this_process_resumes_with_workers(server, client, drop_last):
    """1 rank, no workers -> 3 workers; with drop_last the remainder and short batches go."""
    order = served_rows(client, sampler=SAMPLER)
    ds = AnnflightDataset(REQUEST, uri=server.uri, batch_size=BATCH, sampler={"kind": "shuffle"},
                          seed=6, drop_last=drop_last)
    ds.set_epoch(2)
    it = iter(ds)
    head = [r for _ in range(7) for r in next(it)["_row"].tolist()]
    state = ds.state_dict()
    assert state["positions"] == 7 * BATCH and head == order[:7 * BATCH]
    again = AnnflightDataset(REQUEST, uri=server.uri, batch_size=BATCH,
                             sampler={"kind": "shuffle"}, seed=0, drop_last=drop_last)
    again.load_state_dict(state)
    rest = [r for b in AnnflightLoader(again, num_workers=3) for r in b["_row"].tolist()]
    remaining = order[7 * BATCH:]
    if drop_last:  # whole batches of a multiple of 3 parts
        kept = len(remaining) // 3 // BATCH * BATCH * 3
        assert sorted(rest) == sorted(remaining[:kept])
    else:
        pad = -len(remaining) % 3
        assert sorted(rest) == sorted(remaining + order[:pad])


def test_a_lightning_run_resumed_from_a_mid_epoch_checkpoint_with_more_workers(
        server, client, tmp_path):
    """5 steps without workers, a checkpoint, the rest of the epoch through 2 workers."""
    import lightning as L
    import torch

    from annflight.lightning import AnnflightDataModule

    class Model(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)
            self.rows = []

        def training_step(self, batch, _):
            self.rows += batch["_row"].tolist()
            return self.linear(torch.ones(1, 1)).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    def trainer(**kw):
        return L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False,
                         limit_val_batches=0, max_epochs=1, **kw)

    def module(workers):
        return AnnflightDataModule(REQUEST, uri=server.uri, batch_size=BATCH, holdout=0.25,
                                   seed=1, num_workers=workers)

    # A checkpoint after step 5 (mid-epoch, as a periodic one taken before a preemption);
    # the run goes on a step more, which the resumed run must serve again.
    first = Model()
    every5 = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=5,
                                                 save_top_k=-1, filename="mid")
    trainer(max_steps=6, callbacks=[every5]).fit(first, datamodule=module(0))
    assert len(first.rows) == 6 * BATCH
    second = Model()
    trainer(enable_checkpointing=False).fit(second, datamodule=module(2),
                                            ckpt_path=tmp_path / "mid.ckpt")

    train = sorted(served_rows(client, split={"holdout": 0.25, "seed": 1, "part": "train"}))
    seen = first.rows[:5 * BATCH] + second.rows
    assert sorted(set(seen)) == train
    assert len(train) <= len(seen) < len(train) + 2  # the 2 parts' padding at most


def test_a_stateful_dataloaders_worker_states_resume_elsewhere_through_global_state(
        server, client):
    """torchdata's StatefulDataLoader keeps a state per worker: their furthest is the global
    one, which 1 process without workers continues."""
    from torchdata.stateful_dataloader import StatefulDataLoader

    from annflight.torch import global_state
    order = served_rows(client, sampler=SAMPLER)
    ds = dataset(server.uri, 0, 1)
    loader = StatefulDataLoader(ds, batch_size=None, num_workers=2,
                                multiprocessing_context="spawn")
    it = iter(loader)
    head = [r for _ in range(5) for r in next(it)["_row"].tolist()]
    state = global_state(loader.state_dict())
    del it
    assert state == {"epoch": 2, "seed": 6, "positions": 5 * BATCH}
    assert head == order[:5 * BATCH]
    again = dataset(server.uri, 0, 1)
    again.load_state_dict(state)
    assert [r for b in again for r in b["_row"].tolist()] == order[5 * BATCH:]


def test_the_layout_deals_every_position_once_and_counts_prefixes():
    """annflight.layout on small epochs, exhaustively: the parts' positions are the rest of
    the epoch (padded or cut to a multiple of the parts) once each, equal in number; the
    positions of the first g global batches are counted by consumed(g)."""
    from annflight.layout import EpochLayout
    for length in range(0, 30):
        for start in (0, 1, length // 2, length):
            for parts in (1, 2, 3, 5):
                for batch in (1, 2, 4):
                    for drop in (False, True):
                        lay = EpochLayout(start, length, parts, batch, drop)
                        dealt = [[p for t in lay.tickets(part, positions_per_ticket=3)
                                  for p in t] for part in range(parts)]
                        rest = max(0, length - start)
                        per = rest // parts if drop else -(-rest // parts)
                        assert len({len(d) for d in dealt}) == 1
                        if not drop:
                            assert len(dealt[0]) == per
                            want = [(start + i) % length for i in range(per * parts)]
                            assert sorted(p for d in dealt for p in d) == sorted(want)
                        else:  # whole batches only
                            assert len(dealt[0]) == per // batch * batch
                        # Global batches in dealing order: round by round, part by part.
                        order = []
                        for b in range(lay.batches_per_part()):
                            for part in range(parts):
                                first, size = lay.batch(part, b)
                                order.append(list(range(first, first + size)))
                        for g in range(len(order) + 1):
                            got = lay.consumed(g)
                            assert got == min(length, start + sum(map(len, order[:g])))
