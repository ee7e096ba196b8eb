"""annflight.ray.read_annflight on a local Ray cluster started by the test (2 CPUs, bounded):
one read task per endpoint, every row equal to anndata's (Ray does not keep the order of
blocks unless asked: rows are matched by their _row), and the dataset works with
map_batches, iter_torch_batches and a two-worker Ray Train loop."""
import json

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from annflight.ray import read_annflight  # noqa: E402
from conftest import FIX_PATHS  # noqa: E402
from expected import Expected  # noqa: E402

REQUEST = {"collection": "fix", "obs_keys": ["cell_type"], "obsm_keys": ["X_pca"],
           "return_index": True}
EXP = Expected(FIX_PATHS, ["cell_type"], ["X_pca"])


@pytest.fixture(scope="module")
def local_ray():
    # Logical CPUs: the Train test's two workers and its coordinator hold three, and the read
    # tasks need more, or they wait for each other forever.
    ray.init(num_cpus=6, include_dashboard=False, object_store_memory=200 * 2**20,
             log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_a_request_reads_as_a_ray_dataset_equal_to_anndata(server, local_ray):
    ds = read_annflight(REQUEST, uri=server.uri)
    assert ds.count() == EXP.n_obs
    rows = sorted(ds.take_all(), key=lambda r: r["_row"])
    assert [r["_row"] for r in rows] == list(range(EXP.n_obs))
    x = np.stack([r["X"] for r in rows])
    np.testing.assert_array_equal(x, EXP.X())
    codes = [r["cell_type"] for r in rows]
    assert codes == [-1 if c is None else c for c in EXP.codes("cell_type")]
    pca = EXP.obsm("X_pca")
    for r, want in zip(rows, pca):
        if want is None:
            assert np.isnan(r["obsm_X_pca"]).all()
        else:
            np.testing.assert_allclose(r["obsm_X_pca"], want)
    # One read task per endpoint, and asked-for parallelism changes the endpoints.
    with __import__("annflight").connect(server.uri) as af:
        endpoints = len(af.info(REQUEST).endpoints)
    assert ds.materialize().num_blocks() >= endpoints
    assert read_annflight(REQUEST, uri=server.uri, parallelism=9).count() == EXP.n_obs


def test_map_batches_and_iter_torch_batches(server, local_ray):
    import torch
    ds = read_annflight(REQUEST, uri=server.uri)
    sums = ds.map_batches(lambda b: {"row": b["_row"], "s": b["X"].sum(axis=1)},
                          batch_format="numpy")
    got = {int(r): s for b in sums.iter_batches(batch_format="numpy", batch_size=None)
           for r, s in zip(b["row"], b["s"])}
    np.testing.assert_allclose([got[i] for i in range(EXP.n_obs)], EXP.X().sum(axis=1),
                               rtol=1e-5)
    seen = 0
    for batch in ds.iter_torch_batches(batch_size=16):
        assert batch["X"].dtype == torch.float32 and batch["X"].shape[1] == len(EXP.var_joint)
        assert batch["cell_type"].dtype == torch.int64
        seen += len(batch["X"])
    assert seen == EXP.n_obs


def test_a_ray_train_loop_over_the_dataset(server, local_ray, tmp_path):
    train = pytest.importorskip("ray.train")
    from ray.train.torch import TorchTrainer

    def loop(config):
        import json as json_
        import torch
        shard = train.get_dataset_shard("train")
        model = torch.nn.Linear(config["n_vars"], 1)
        rows = []
        for batch in shard.iter_torch_batches(batch_size=8):
            model(batch["X"]).sum().backward()
            rows += batch["_row"].tolist()
        rank = train.get_context().get_world_rank()
        with open(f"{config['out']}/worker{rank}.json", "w") as f:
            json_.dump(rows, f)

    trainer = TorchTrainer(loop, train_loop_config={"n_vars": len(EXP.var_joint),
                                                    "out": str(tmp_path)},
                           scaling_config=train.ScalingConfig(num_workers=2),
                           datasets={"train": read_annflight(REQUEST, uri=server.uri)})
    result = trainer.fit()  # bounded: one pass over the collection's rows
    assert result.error is None
    # The two workers split the dataset: no row twice, and all of them but what Ray's equal
    # split drops (fewer than one per worker).
    rows = [r for k in range(2) for r in json.loads((tmp_path / f"worker{k}.json").read_text())]
    assert len(set(rows)) == len(rows) and set(rows) <= set(range(EXP.n_obs))
    assert len(rows) >= EXP.n_obs - 1
