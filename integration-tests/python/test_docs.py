"""The documentation runs and its links resolve.

Every ```python block of README.md and of each page under docs/ runs, in order, in one namespace
per page, against the demo collection of the test server: the address grpc+tcp://127.0.0.1:8815
is replaced by the server's, ANNFLIGHT_URI names the server (for snippets that take no uri=),
and the working directory is the server's data root (so ``paths`` such as ``pbmc_a.h5ad`` name
the demo's stores on both sides). What the snippets compute is then checked against
anndata/pandas, so the pages cannot drift. ```py blocks are illustrative and not run.

Links: every relative link and #anchor between README.md, CHANGELOG.md and docs/ must resolve.
"""
import contextlib
import gc
import io
import re
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import DEMO_PATHS
from expected import DEMO, REPO, Expected

DOC_URI = "grpc+tcp://127.0.0.1:8815"
PAGES = [REPO / "README.md", REPO / "CHANGELOG.md"] + sorted((REPO / "docs").rglob("*.md"))


def python_blocks(page: Path) -> List[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.M | re.S)


def rel(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def _demo() -> Expected:
    return Expected(DEMO_PATHS, ["cell_type", "tissue"], directory=DEMO)


def _codes_at(demo, rows):
    codes = demo.codes("cell_type")
    return [-1 if codes[r] is None else codes[r] for r in rows]


# ---------------------------------------------------------------- value checks, per page

def check_per_type(ns):
    """DuckDB: blood cells per type, average of the first gene."""
    demo = _demo()
    frame = pd.DataFrame({"cell_type": demo.labels("cell_type"),
                          "tissue": demo.labels("tissue"), "g": demo.X()[:, 0]})
    blood = frame[frame["tissue"] == "blood"]
    want = {(None if pd.isna(k) else k): (len(g), g["g"].astype(np.float64).mean())
            for k, g in blood.groupby("cell_type", dropna=False)}
    got = {k: (n, avg) for k, n, avg in ns["per_type"]}
    assert got.keys() == want.keys()
    for k, (n, avg) in got.items():
        assert n == want[k][0] and avg == pytest.approx(want[k][1], rel=1e-9)


def check_torch_loop(ns):
    demo = _demo()
    left_out = ns["request"].get("unknown_label")
    classes = [c for c in demo.merged_categories("cell_type") if c != left_out]
    assert ns["classes"] == classes
    assert ns["batch"]["X"].shape[1] == 100 and ns["batch"]["cell_type"].dtype == torch.int64
    assert torch.isfinite(ns["loss"])


def check_mapped(ns):
    demo = Expected(DEMO_PATHS, ["cell_type"], directory=DEMO,
                    unknown_label=ns["mc"].request.get("unknown_label"))
    np.testing.assert_allclose(np.asarray(ns["weights"]), demo.label_weights("cell_type")[0])
    first = ns["first"]
    assert tuple(first["X"].shape) == (64, 100) and first["cell_type"].shape == (64,)
    # Each row of the minibatch is a row of the collection, with its own label code.
    X = demo.X()
    codes = np.array(_codes_at(demo, range(demo.n_obs)))
    for x, code in zip(first["X"].numpy(), first["cell_type"].numpy()):
        hits = np.flatnonzero((X == x).all(axis=1))
        assert hits.size and code in codes[hits]


def check_readme(ns, out):
    check_torch_loop(ns)
    check_mapped(ns)
    check_per_type(ns)
    assert ns["df"].height == _demo().n_obs


def check_python(ns, out):
    demo = _demo()
    assert "['demo'" in out or "'demo'" in out
    assert ns["table"]["cell_type"].to_pylist() == demo.labels("cell_type")
    np.testing.assert_allclose(ns["weights"], demo.label_weights("cell_type")[0])
    assert '"rows_per_batch" must be a positive integer, got 0' in out


def check_pyarrow(ns, out):
    demo = _demo()
    assert "[500, 100]" in out
    assert ns["labels"].column(0).to_pylist() == demo.merged_labels("cell_type")
    # Every row from parallel endpoint reads, and a hand-built index ticket.
    assert ns["table"]["cell_type"].to_pylist() == demo.labels("cell_type")
    np.testing.assert_array_equal(ns["X"], demo.X()[[42, 7, 7, 499]])
    assert ns["codes"].to_pylist() == _codes_at(demo, [42, 7, 7, 499])
    # The fast numpy path over the hand-built ticket (one batch of 4 rows).
    np.testing.assert_array_equal(ns["batch_X"], demo.X()[[42, 7, 7, 499]])
    assert ns["batch_codes"].tolist() == _codes_at(demo, [42, 7, 7, 499])


def check_duckdb_polars(ns, out):
    demo = _demo()
    check_per_type(ns)
    counts = dict(ns["counts"])
    want = pd.Series(demo.labels("cell_type")).value_counts(dropna=False)
    assert sum(counts.values()) == demo.n_obs
    assert {k: int(n) for k, n in want.items() if not pd.isna(k)} == \
        {k: n for k, n in counts.items() if k is not None}
    summary = {r["cell_type"]: (r["n"], r["mean_total"]) for r in ns["summary"].to_dicts()}
    totals = pd.DataFrame({"cell_type": demo.labels("cell_type"),
                           "t": demo.X().astype(np.float64).sum(axis=1)})
    for k, g in totals.groupby("cell_type", dropna=False):
        key = None if pd.isna(k) else k
        assert summary[key][0] == len(g)
        assert summary[key][1] == pytest.approx(g["t"].mean(), rel=1e-5)


def check_pytorch(ns, out):
    check_torch_loop(ns)
    assert ns["trainer"].state.finished


def check_mapped_page(ns, out):
    check_mapped(ns)


def check_schema(ns, out):
    demo = _demo()
    np.testing.assert_array_equal(ns["X_csr"].toarray(), demo.X())
    np.testing.assert_array_equal(ns["X_torch"].to_dense().numpy(), demo.X())
    names = [str(v) for v in demo.var_joint]
    picked = np.stack([demo.X()[:, names.index(g)] if g in names else np.zeros(demo.n_obs)
                       for g in ["GENE005", "GENE001", "not_a_gene"]], axis=1)
    np.testing.assert_array_equal(np.vstack(ns["X_genes"].to_numpy(zero_copy_only=False)),
                                  picked)
    assert "['not_a_gene']" in out


def check_actions(ns, out):
    demo = _demo()
    assert "[500, 100]" in out
    assert ns["labels"].column(0).to_pylist() == demo.merged_labels("cell_type")
    np.testing.assert_array_equal(ns["weights"].to_numpy(), demo.label_weights("cell_type")[0])


CHECKS: Dict[str, Callable] = {
    "README.md": check_readme,
    "docs/guide/python.md": check_python,
    "docs/guide/pyarrow.md": check_pyarrow,
    "docs/guide/duckdb-polars.md": check_duckdb_polars,
    "docs/guide/pytorch.md": check_pytorch,
    "docs/guide/mapped-collection.md": check_mapped_page,
    "docs/reference/schema.md": check_schema,
    "docs/reference/actions.md": check_actions,
}
RUNNABLE = [p for p in PAGES if python_blocks(p)]


def test_the_checked_pages_have_their_python_blocks():
    assert set(CHECKS) <= {rel(p) for p in RUNNABLE}, \
        "a checked page lost its ```python blocks (fenced ```py they are not run)"


@pytest.mark.parametrize("page", RUNNABLE, ids=rel)
def test_python_blocks_run_and_compute_the_right_values(page, server, monkeypatch):
    blocks = python_blocks(page)
    assert all(DOC_URI in b for b in blocks if re.search(r"connect\(\"", b))
    monkeypatch.setenv("ANNFLIGHT_URI", server.uri)
    monkeypatch.chdir(server.root)
    ns = {"__name__": rel(page).replace("/", ".")}
    out = io.StringIO()
    for i, block in enumerate(blocks):
        code = compile(block.replace(DOC_URI, server.uri), f"{rel(page)} python block {i}",
                       "exec")
        with contextlib.redirect_stdout(out):
            exec(code, ns)
    check = CHECKS.get(rel(page))
    try:
        if check is not None:
            check(ns, out.getvalue())
    finally:
        ns.clear()  # the page's Flight channels close now, not at a later garbage collection
        gc.collect()


# ---------------------------------------------------------------- links

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set:
    seen: Dict[str, int] = {}
    out = set()
    for h in re.findall(r"^#{1,6} +(.+?) *#*$", _FENCE.sub("", page.read_text()), flags=re.M):
        s = slug(h)
        n = seen.get(s, 0)
        out.add(s if n == 0 else f"{s}-{n}")
        seen[s] = n + 1
    return out


def links(page: Path):
    text = _INLINE_CODE.sub("", _FENCE.sub("", page.read_text()))
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_slug_follows_github():
    assert slug("Which server") == "which-server"
    assert slug("Several GPUs or machines: torchrun") == "several-gpus-or-machines-torchrun"
    assert slug("`matrix_format` and `var_names`") == "matrix_format-and-var_names"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        try:
            name = dest.relative_to(REPO).as_posix()
        except ValueError:
            broken.append(f"{target} (outside the repository)")
            continue
        if not dest.exists():
            broken.append(f"{target} (no {name})")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {name})")
    assert not broken, f"{rel(page)}: broken links: {broken}"


def test_readme_is_a_front_page():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    # CI and the developers' guide run these two commands.
    assert "mvn -B -q package -DskipTests && java -jar flight-server/target/annflight-server.jar" in text
    assert "## Run the tests" in text and "\nmvn -B verify\n" in text
