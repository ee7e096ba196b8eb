"""annflight.MappedCollection over every engine case (flight-server/src/test/resources/
engine-cases: requests over the fixtures with what lamindb's MappedCollection must give,
computed by tools/fixtures/expected_engine.py with anndata and pandas): length, every row by
__getitems__ key by key, lamindb's methods, and the refused requests with their messages."""
import json
import math

import numpy as np
import pytest

import annflight
from expected import REPO

CASES = sorted((REPO / "flight-server/src/test/resources/engine-cases").glob("*.json"))


def load(path):
    return json.loads(path.read_text())


def construct(server, request):
    r = dict(request)
    paths = r.pop("paths")
    return annflight.MappedCollection(paths, **r, uri=server.uri)


def same_number(got, want) -> bool:
    if want is None:
        return got is None or (isinstance(got, float) and math.isnan(got))
    if isinstance(want, bool) or isinstance(got, (bool, np.bool_)):
        return bool(got) == bool(want)
    return float(got) == float(want)


def assert_rows(got_rows, want_rows, what):
    assert len(got_rows) == len(want_rows), what
    for i, (g, w) in enumerate(zip(got_rows, want_rows)):
        if w is None:
            assert g is None, f"{what} row {i}: expected no value (store lacks it)"
            continue
        g = np.asarray(g, dtype=np.float64)
        assert len(g) == len(w), f"{what} row {i}"
        assert all(same_number(a, b) for a, b in zip(g.tolist(), w)), f"{what} row {i}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_engine_case(server, path):
    case = load(path)
    if "error" in case:
        with pytest.raises(annflight.AnnflightError, match=None) as e:
            construct(server, case["request"])
        assert case["error"] in str(e.value)
        return
    exp = case["expected"]
    with construct(server, case["request"]) as mc:
        assert len(mc) == exp["n_obs"]
        assert list(mc.shape) == exp["shape"]
        assert [list(s) for s in mc.original_shapes] == exp["original_shapes"]
        assert mc.var_joint == exp["var_joint"]
        assert mc.check_vars_sorted(True) == exp["check_vars_sorted_ascending"]
        assert mc.check_vars_sorted(False) == exp["check_vars_sorted_descending"]
        assert mc.check_vars_non_aligned(exp["check_vars_non_aligned"]["vars"]) == \
            exp["check_vars_non_aligned"]["result"]
        rows = mc.__getitems__(list(range(len(mc)))) if len(mc) else []
        columns = exp["columns"]
        assert [r["_store_idx"] for r in rows] == columns["_store_idx"]
        for name, want in columns.items():
            if name == "_store_idx":
                continue
            got = [r[name] for r in rows]
            if "rows" in want:  # a matrix
                for g in got:
                    if g is not None:
                        assert np.dtype(g.dtype).name == want["type"], name
                assert_rows(got, want["rows"], name)
            elif want["encoded"]:
                assert list(got) == [-1 if c is None else c for c in want["codes"]], name
            else:
                assert all(same_number(g, w) if isinstance(w, (int, float)) or w is None
                           and isinstance(g, float) else g == w
                           for g, w in zip(got, want["values"])), name
        for key, cats in exp["merged_categories"].items():
            assert mc.get_merged_categories(key) == cats
        for key, labels in exp["merged_labels"].items():
            got = list(mc.get_merged_labels(key))
            assert len(got) == len(labels)
            assert all(same_number(g, w) if isinstance(w, (int, float)) and
                       not isinstance(w, bool) else g == w for g, w in zip(got, labels)), key
        lw = exp.get("label_weights")
        if lw:
            np.testing.assert_allclose(mc.get_label_weights(lw["keys"], lw["scaler"]),
                                       lw["weights"])
            assert mc.get_label_weights(lw["keys"], lw["scaler"], return_categories=True) \
                == pytest.approx(lw["categories"])
