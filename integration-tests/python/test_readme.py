"""Every ```python block of README.md runs, in order and in one namespace, against the demo
collection of the test server (the README's address replaced by the server's); what the
snippets compute is then checked against anndata/pandas, so the README cannot drift."""
import contextlib
import io
import re

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import DEMO_PATHS
from expected import DEMO, REPO, Expected

README = REPO / "README.md"
README_URI = "grpc+tcp://127.0.0.1:8815"


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def test_readme_python_snippets_run_and_compute_the_right_values(server):
    blocks = python_blocks()
    assert len(blocks) >= 6, "quick start, actions, pyarrow, DuckDB, Polars, PyTorch"
    assert all(README_URI in b for b in blocks if "connect(" in b or "AnnflightDataset(" in b)
    ns = {"__name__": "readme"}
    out = io.StringIO()
    for i, block in enumerate(blocks):
        code = compile(block.replace(README_URI, server.uri), f"README.md python block {i}",
                       "exec")
        with contextlib.redirect_stdout(out):
            exec(code, ns)

    demo = Expected(DEMO_PATHS, ["cell_type", "tissue"], directory=DEMO)
    # Quick start and actions.
    assert "[500, 100]" in out.getvalue()
    assert ns["labels"].column(0).to_pylist() == demo.merged_labels("cell_type")
    np.testing.assert_array_equal(ns["weights"].to_numpy(),
                                  demo.label_weights("cell_type")[0])
    # pyarrow: every row from parallel endpoint reads, and a hand-built index ticket.
    assert ns["table"]["cell_type"].to_pylist() == demo.labels("cell_type")
    np.testing.assert_array_equal(ns["X"], demo.X()[[42, 7, 7, 499]])
    codes = demo.codes("cell_type")
    assert ns["codes"].to_pylist() == [-1 if codes[r] is None else codes[r]
                                       for r in [42, 7, 7, 499]]
    # DuckDB: blood cells per type, average of the first gene.
    frame = pd.DataFrame({"cell_type": demo.labels("cell_type"),
                          "tissue": demo.labels("tissue"), "g": demo.X()[:, 0]})
    blood = frame[frame["tissue"] == "blood"]
    want = {(None if pd.isna(k) else k): (len(g), g["g"].astype(np.float64).mean())
            for k, g in blood.groupby("cell_type", dropna=False)}
    got = {k: (n, avg) for k, n, avg in ns["per_type"]}
    assert got.keys() == want.keys()
    for k, (n, avg) in got.items():
        assert n == want[k][0] and avg == pytest.approx(want[k][1], rel=1e-9)
    # Polars: rows per type and mean row total.
    summary = {r["cell_type"]: (r["n"], r["mean_total"]) for r in ns["summary"].to_dicts()}
    totals = pd.DataFrame({"cell_type": demo.labels("cell_type"),
                           "t": demo.X().astype(np.float64).sum(axis=1)})
    for k, g in totals.groupby("cell_type", dropna=False):
        key = None if pd.isna(k) else k
        assert summary[key][0] == len(g)
        assert summary[key][1] == pytest.approx(g["t"].mean(), rel=1e-5)
    # Performance: the fast numpy path over the hand-built ticket (one batch of 4 rows).
    np.testing.assert_array_equal(ns["batch_X"], demo.X()[[42, 7, 7, 499]])
    assert ns["batch_codes"].tolist() == [-1 if codes[r] is None else codes[r]
                                          for r in [42, 7, 7, 499]]
    # Sparse rows and a gene vocabulary.
    np.testing.assert_array_equal(ns["X_csr"].toarray(), demo.X())
    np.testing.assert_array_equal(ns["X_torch"].to_dense().numpy(), demo.X())
    names = [str(v) for v in demo.var_joint]
    picked = np.stack([demo.X()[:, names.index(g)] if g in names else np.zeros(demo.n_obs)
                       for g in ["GENE005", "GENE001", "not_a_gene"]], axis=1)
    np.testing.assert_array_equal(np.vstack(ns["X_genes"].to_numpy(zero_copy_only=False)),
                                  picked)
    # PyTorch: the loop trained on real batches.
    assert ns["batch"]["X"].shape[1] == 100 and ns["batch"]["cell_type"].dtype == torch.int64
    assert torch.isfinite(ns["loss"])
