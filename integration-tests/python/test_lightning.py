"""annflight.lightning.AnnflightDataModule: a Lightning fit of a few steps over the server's
split; training and validation rows are disjoint and together the collection, and each
training epoch is a new server-planned order."""
import lightning as L
import torch

from annflight.lightning import AnnflightDataModule
from conftest import FIX_PATHS
from expected import Expected

EXP = Expected(FIX_PATHS, ["cell_type"], unknown_label="unknown")
REQUEST = {"collection": "fix", "obs_keys": ["cell_type"], "obsm_keys": [],
           "unknown_label": "unknown"}


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(len(EXP.var_joint), len(EXP.dictionary("cell_type")))
        self.loss = torch.nn.CrossEntropyLoss(ignore_index=-1)
        self.train_rows, self.val_rows = [], []

    def training_step(self, batch, _):
        if self.current_epoch == len(self.train_rows):
            self.train_rows.append([])
        self.train_rows[-1].extend(batch["_row"].tolist())
        return self.loss(self.linear(batch["X"]), batch["cell_type"]).nan_to_num(0.0)

    def validation_step(self, batch, _):
        if self.current_epoch == 0:
            self.val_rows.extend(batch["_row"].tolist())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_a_short_fit_over_the_servers_split(server):
    dm = AnnflightDataModule(REQUEST, uri=server.uri, batch_size=16, holdout=0.25, seed=3,
                             sampler={"kind": "shuffle"})
    model = Classifier()
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    first, second = model.train_rows
    assert sorted(first) == sorted(second) and first != second  # a new order per epoch
    assert not set(first) & set(model.val_rows)
    assert sorted(set(first) | set(model.val_rows)) == list(range(EXP.n_obs))
    assert 0 < len(model.val_rows) < EXP.n_obs // 2
