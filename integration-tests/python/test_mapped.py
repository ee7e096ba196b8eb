"""annflight.MappedCollection, the drop-in for lamindb's class, against the real server:
length, rows, minibatches, lamindb's methods and a DataLoader with WeightedRandomSampler, with
values from anndata/pandas (expected.py)."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

import annflight
from conftest import FIX_PATHS
from expected import Expected

OBS = ["cell_type", "tissue"]
EXP = Expected(FIX_PATHS, OBS, ["X_pca"], unknown_label="unknown")


@pytest.fixture(scope="module")
def mc(server):
    with annflight.MappedCollection(FIX_PATHS, layers_keys="X", obs_keys=OBS,
                                    obsm_keys=["X_pca"], unknown_label="unknown",
                                    cache_categories=True, parallel=True,
                                    uri=server.uri) as m:
        yield m


def as_list(batch):
    return batch


def code(key, row):
    c = EXP.codes(key)[row]
    return -1 if c is None else c


def test_length_and_rows_are_anndatas(mc):
    assert len(mc) == mc.n_obs == EXP.n_obs
    X = EXP.X()
    for i in (0, 7, EXP.n_obs - 1, -1):
        row = mc[i]
        r = i % EXP.n_obs
        np.testing.assert_array_equal(row["X"], X[r])
        assert row["_store_idx"] == EXP.store_idx()[r]
        for key in OBS:
            assert row[key] == code(key, r)
        want = EXP.obsm("X_pca")[r]
        if want is None:
            assert row["obsm_X_pca"] is None
        else:
            np.testing.assert_allclose(row["obsm_X_pca"], want)
    with pytest.raises(IndexError):
        mc[EXP.n_obs]


def test_getitems_fetches_a_minibatch_in_one_request(mc):
    rows = [5, 3, 3, 120]
    batch = mc.__getitems__(rows)
    assert [b["cell_type"] for b in batch] == [code("cell_type", r) for r in rows]
    np.testing.assert_array_equal(np.stack([b["X"] for b in batch]), EXP.X()[rows])


def test_lamindbs_methods(mc):
    assert list(mc.shape) == EXP.shape
    assert [list(s) for s in mc.original_shapes] == EXP.original_shapes()
    assert mc.var_joint == list(EXP.var_joint)
    assert mc.get_merged_categories("cell_type") == EXP.merged_categories("cell_type")
    assert list(mc.get_merged_labels("tissue")) == EXP.merged_labels("tissue")
    np.testing.assert_allclose(mc.get_label_weights("cell_type"),
                               EXP.label_weights("cell_type")[0])
    assert isinstance(mc.check_vars_sorted(), bool)
    assert mc.check_vars_non_aligned(list(EXP.var_joint)) == [
        i for i, v in enumerate(EXP.vars) if list(v) != list(EXP.var_joint)]


def test_a_lamindb_training_loop_runs_unchanged(mc):
    # lamindb's tutorial: weights from get_label_weights into a WeightedRandomSampler.
    weights = mc.get_label_weights("cell_type")
    sampler = WeightedRandomSampler(weights, len(weights), generator=torch.Generator()
                                    .manual_seed(0))
    loader = DataLoader(mc, batch_size=32, sampler=sampler, num_workers=2,
                        multiprocessing_context="spawn",
                        worker_init_fn=mc.torch_worker_init_fn,
                        collate_fn=as_list)  # obsm rows of csc.h5ad are None
    seen = 0
    for batch in loader:
        for row in batch:
            assert row["X"].shape == (len(EXP.var_joint),)
        seen += len(batch)
    assert seen == len(weights)


def test_errors_carry_the_servers_message(server):
    with pytest.raises(annflight.InvalidRequest, match="no_such_key"):
        annflight.MappedCollection(FIX_PATHS, obs_keys=["no_such_key"], uri=server.uri)
    with pytest.raises(ValueError, match="path_list or collection"):
        annflight.MappedCollection(uri=server.uri)
    m = annflight.MappedCollection(collection="fix", uri=server.uri)
    m.close()
    assert m.closed
    with pytest.raises(RuntimeError):
        m[0]
