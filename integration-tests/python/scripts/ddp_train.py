"""A multi-GPU style training run, as `torchrun --nproc_per_node 2 ddp_train.py URI OUT`
launches it (gloo on CPU here; nccl on GPUs is the same code): DistributedDataParallel over a
linear classifier, fed by annflight.torch.AnnflightDataset through 2 DataLoader workers per
rank. Each rank writes the collection rows it trained on, per batch, to OUT/rank<k>.json."""
import json
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from annflight.torch import AnnflightDataset


def main(uri: str, out: str, epochs: int = 2):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    ds = AnnflightDataset(uri, {"collection": "pbmc", "obs_keys": ["cell_type"]},
                          batch_size=4, sampler={"kind": "block_shuffle"})
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="spawn")
    first = next(iter(ds))
    model = DistributedDataParallel(torch.nn.Linear(first["X"].shape[1], 16))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    seen = []
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        rows = []
        for batch in loader:
            optimiser.zero_grad()
            loss_fn(model(batch["X"]), batch["cell_type"]).backward()  # gradients all-reduced
            optimiser.step()
            rows.append(batch["_row"].tolist())
        seen.append(rows)
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump(seen, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
