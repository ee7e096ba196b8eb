"""Lightning: train and validation dataloaders from the server's ``split``.

    dm = AnnflightDataModule({"collection": "demo", "obs_keys": ["cell_type"]},
                             uri="grpc+tcp://127.0.0.1:8815", batch_size=256, holdout=0.1)
    lightning.Trainer(max_epochs=3).fit(model, datamodule=dm)

Training batches come from a server-planned epoch (``sampler``, default ``block_shuffle``),
one epoch per pass (the dataloader sets the dataset's epoch each time it is iterated);
validation batches are the held-out rows in collection order. Both are disjoint and together
the whole collection, the same on every run with the same ``seed``.
"""
from typing import Optional

import lightning as L
from torch.utils.data import DataLoader

from .target import request_and_uri, resolve
from .torch import AnnflightDataset


class _EpochLoader(DataLoader):
    """A DataLoader that starts each pass on the next epoch of its dataset (Lightning sets
    epochs on samplers only, and an IterableDataset has none)."""

    def __init__(self, dataset: AnnflightDataset, **kwargs):
        super().__init__(dataset, batch_size=None, **kwargs)
        self._next_epoch = 0

    def __iter__(self):
        self.dataset.set_epoch(self._next_epoch)
        self._next_epoch += 1
        return super().__iter__()


class AnnflightDataModule(L.LightningDataModule):
    """``uri``: the server, else ``ANNFLIGHT_URI``, else a local one (:mod:`annflight.target`);
    the older ``AnnflightDataModule(uri, request, ...)`` form warns."""

    def __init__(self, request: dict, _request_after_uri: Optional[dict] = None, *,
                 uri: Optional[str] = None, batch_size: int = 256,
                 sampler: Optional[dict] = None, holdout: float = 0.1, seed: int = 0,
                 num_workers: int = 0, compression: str = "lz4", token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None):
        super().__init__()
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must lie strictly between 0 and 1, got {holdout}")
        request, uri = request_and_uri(request, _request_after_uri, uri, "AnnflightDataModule")
        target = resolve(uri, token)
        self.uri, self.request, token = target.uri, dict(target.localise(request)), target.token
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.sampler = sampler if sampler is not None else {"kind": "block_shuffle"}
        self.holdout, self.compression, self.token = holdout, compression, token
        self.tls_root_certs = tls_root_certs

    def _split(self, part: str) -> dict:
        return {**self.request, "split": {"holdout": self.holdout, "seed": self.seed,
                                          "part": part}}

    def _loader(self, dataset: AnnflightDataset) -> DataLoader:
        extra = {"multiprocessing_context": "spawn"} if self.num_workers > 0 else {}
        return _EpochLoader(dataset, num_workers=self.num_workers, **extra)

    def train_dataloader(self) -> DataLoader:
        return self._loader(AnnflightDataset(
            self._split("train"), uri=self.uri, batch_size=self.batch_size, sampler=self.sampler,
            seed=self.seed, compression=self.compression, token=self.token,
            tls_root_certs=self.tls_root_certs))

    def val_dataloader(self) -> DataLoader:
        return self._loader(AnnflightDataset(
            self._split("holdout"), uri=self.uri, batch_size=self.batch_size, seed=self.seed,
            compression=self.compression, token=self.token,
            tls_root_certs=self.tls_root_certs))
