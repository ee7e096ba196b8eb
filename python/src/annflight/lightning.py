"""Lightning: train and validation dataloaders from the server's ``split``.

    dm = AnnflightDataModule({"collection": "demo", "obs_keys": ["cell_type"]},
                             uri="grpc+tcp://127.0.0.1:8815", batch_size=256, holdout=0.1)
    lightning.Trainer(max_epochs=3).fit(model, datamodule=dm)

Training batches come from a server-planned epoch (``sampler``, default ``block_shuffle``),
the trainer's current epoch on each pass; validation batches are the held-out rows in
collection order. Both are disjoint and together the whole collection, the same on every run
with the same ``seed``. The module's ``state_dict`` (saved in every checkpoint) is the
training epoch's global position: a run resumed from a mid-epoch checkpoint, on any number of
devices and workers, continues that epoch's order without repeating or skipping a row.
"""
from typing import Optional

import lightning as L
import torch

from .target import request_and_uri, resolve
from .torch import AnnflightDataset, AnnflightLoader


class _EpochLoader(AnnflightLoader):
    """Starts each pass on the trainer's current epoch (Lightning sets epochs on samplers
    only, and an IterableDataset has none), or continues a loaded state of that epoch. The
    batches consumed are counted by the module's batch hook, not here: Lightning fetches a
    batch ahead of the one it trains on."""

    def __init__(self, dataset: AnnflightDataset, module: "AnnflightDataModule", **kwargs):
        super().__init__(dataset, **kwargs)
        self.count_batches = False
        self._module = module
        self._next_epoch = 0

    def __iter__(self):
        trainer = self._module.trainer
        epoch = trainer.current_epoch if trainer is not None else self._next_epoch
        if not (self.dataset._resume and self.dataset.epoch == epoch):
            self.dataset.set_epoch(epoch)
        self._next_epoch = epoch + 1
        return super().__iter__()


class AnnflightDataModule(L.LightningDataModule):
    """``uri``: the server, else ``ANNFLIGHT_URI``, else a local one (:mod:`annflight.target`);
    the older ``AnnflightDataModule(uri, request, ...)`` form warns."""

    def __init__(self, request: dict, _request_after_uri: Optional[dict] = None, *,
                 uri: Optional[str] = None, batch_size: int = 256,
                 sampler: Optional[dict] = None, holdout: float = 0.1, seed: int = 0,
                 num_workers: int = 0, compression: Optional[str] = None,
                 token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None,
                 index_dtype: torch.dtype = torch.int64):
        super().__init__()
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must lie strictly between 0 and 1, got {holdout}")
        request, uri = request_and_uri(request, _request_after_uri, uri, "AnnflightDataModule")
        target = resolve(uri, token)
        self.uri, self.request, token = target.uri, dict(target.localise(request)), target.token
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.sampler = sampler if sampler is not None else {"kind": "block_shuffle"}
        self.holdout, self.compression, self.token = holdout, compression, token
        self.tls_root_certs, self.index_dtype = tls_root_certs, index_dtype
        self._train: Optional[AnnflightDataset] = None
        self._loaded: Optional[dict] = None

    def _split(self, part: str) -> dict:
        return {**self.request, "split": {"holdout": self.holdout, "seed": self.seed,
                                          "part": part}}

    def _loader(self, dataset: AnnflightDataset) -> AnnflightLoader:
        return _EpochLoader(dataset, self, num_workers=self.num_workers)

    def train_dataloader(self) -> AnnflightLoader:
        self._train = AnnflightDataset(
            self._split("train"), uri=self.uri, batch_size=self.batch_size, sampler=self.sampler,
            seed=self.seed, compression=self.compression, token=self.token,
            tls_root_certs=self.tls_root_certs, index_dtype=self.index_dtype)
        if self._loaded is not None:
            self._train.load_state_dict(self._loaded)
        return self._loader(self._train)

    def val_dataloader(self) -> AnnflightLoader:
        return self._loader(AnnflightDataset(
            self._split("holdout"), uri=self.uri, batch_size=self.batch_size, seed=self.seed,
            compression=self.compression, token=self.token,
            tls_root_certs=self.tls_root_certs, index_dtype=self.index_dtype))

    def on_before_batch_transfer(self, batch, dataloader_idx: int):
        # Called on the batch being trained on (not the one fetched ahead of it).
        if self._train is not None and self.trainer is not None and self.trainer.training:
            self._train._count_step()
        return batch

    def state_dict(self) -> dict:
        """The training epoch, seed and global positions consumed (every device and
        worker together)."""
        if self._train is None:
            return dict(self._loaded or {})
        return self._train.state_dict()

    def load_state_dict(self, state: dict):
        self._loaded = dict(state) if state else None
        if self._train is not None and self._loaded:
            self._train.load_state_dict(self._loaded)
