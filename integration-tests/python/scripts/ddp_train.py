"""A multi-GPU style training run, as `torchrun --nproc_per_node 2 ddp_train.py URI OUT`
launches it (gloo on CPU here; nccl on GPUs is the same code): DistributedDataParallel over a
linear classifier, fed by annflight.torch.AnnflightDataset through 2 DataLoader workers per
rank. Each rank writes the collection rows it trained on, per batch, to OUT/rank<k>.json.

Elastic resume: every `--save-every` steps rank 0 writes the dataset's state (epoch, seed,
global positions consumed by all ranks and workers) to OUT/state.json, beside where a real
run saves its model; `--stop-after N` ends the run after N steps (a preemption);
`--resume STATE` continues that epoch's order on however many ranks and workers this run
has, then the later epochs."""
import argparse
import json

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from annflight.torch import AnnflightDataset, AnnflightLoader


def main():
    args = argparse.ArgumentParser()
    args.add_argument("uri")
    args.add_argument("out")
    args.add_argument("--epochs", type=int, default=2)
    args.add_argument("--workers", type=int, default=2)
    args.add_argument("--save-every", type=int, default=2)
    args.add_argument("--stop-after", type=int, default=None)
    args.add_argument("--resume", default=None)
    a = args.parse_args()

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    ds = AnnflightDataset({"collection": "pbmc", "obs_keys": ["cell_type"]}, uri=a.uri,
                          batch_size=4, sampler={"kind": "block_shuffle"})
    loader = AnnflightLoader(ds, num_workers=a.workers)  # counts the batches consumed
    first = next(iter(ds))
    model = DistributedDataParallel(torch.nn.Linear(first["X"].shape[1], 16))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    start_epoch = 0
    if a.resume:
        with open(a.resume) as f:
            state = json.load(f)
        start_epoch = state["epoch"]
    seen, steps = [], 0
    for epoch in range(start_epoch, a.epochs):
        if a.resume and epoch == start_epoch:
            ds.load_state_dict(state)  # the same global order, after its consumed positions
        else:
            ds.set_epoch(epoch)
        rows = []
        for batch in loader:
            optimiser.zero_grad()
            loss_fn(model(batch["X"]), batch["cell_type"]).backward()  # gradients all-reduced
            optimiser.step()
            rows.append(batch["_row"].tolist())
            steps += 1
            if steps % a.save_every == 0 and rank == 0:
                with open(f"{a.out}/state.json", "w") as f:
                    json.dump(ds.state_dict(), f)
            if a.stop_after is not None and steps == a.stop_after:
                break
        seen.append(rows)
        if a.stop_after is not None and steps == a.stop_after:
            break
    with open(f"{a.out}/rank{rank}.json", "w") as f:
        json.dump(seen, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
