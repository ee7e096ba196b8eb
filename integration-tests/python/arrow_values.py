"""Arrow results as plain numpy/python values, for comparisons with `expected.Expected`."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl


def matrix(column, dtype) -> np.ndarray:
    """A FixedSizeList column without nulls as an (n_rows, width) array."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    assert arr.null_count == 0
    width = arr.type.list_size
    return arr.flatten().to_numpy(zero_copy_only=False).astype(dtype).reshape(-1, width)


def rows(column, dtype) -> list:
    """A FixedSizeList column as one array per row, None for a null row."""
    return [None if r is None else np.asarray(r, dtype=dtype) for r in column.to_pylist()]


def codes(column) -> list:
    """Dictionary indices of an encoded column, None for nulls; every chunk's dictionary must
    be the same (the collection's merged categories)."""
    out = []
    for chunk in column.chunks:
        out.extend(chunk.indices.to_pylist())
    return out


def dictionaries(column) -> list:
    return [chunk.dictionary.to_pylist() for chunk in column.chunks]


def assert_rows_equal(actual: list, expected: list):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        if e is None:
            assert a is None, f"row {i}: expected null"
        else:
            assert a is not None, f"row {i}: unexpected null"
            np.testing.assert_array_equal(a, e, err_msg=f"row {i}")


def assert_collection(table: pa.Table, exp, select=None):
    """Every column of `table` equals the rows of `exp` (an `expected.Expected`): all rows, or
    those at `select`."""
    pick = (lambda xs: xs) if select is None else (lambda xs: [xs[i] for i in select])
    store_idx = exp.store_idx() if select is None else exp.store_idx()[select]
    np.testing.assert_array_equal(table["_store_idx"].to_numpy(), store_idx)
    x = exp.X() if select is None else exp.X()[select]
    np.testing.assert_array_equal(matrix(table["X"], x.dtype), x)
    for key in exp.obs_keys:
        assert all(d == exp.dictionary(key) for d in dictionaries(table[key])), key
        assert codes(table[key]) == pick(exp.codes(key)), key
        assert table[key].to_pylist() == [None if c is None else exp.dictionary(key)[c]
                                          for c in pick(exp.codes(key))], key
    for key in exp.obsm_keys:
        expected = pick(exp.obsm(key))
        dtype = next(r.dtype for r in expected if r is not None)
        assert_rows_equal(rows(table["obsm_" + key], dtype), expected)


def action(client, name: str, body: dict, options=None) -> bytes:
    results = list(client.do_action(fl.Action(name, json.dumps(body).encode()), options))
    assert len(results) == 1
    return results[0].body.to_pybytes()


def action_json(client, name: str, body: dict):
    return json.loads(action(client, name, body))


def action_table(client, name: str, body: dict) -> pa.Table:
    return pa.ipc.open_stream(action(client, name, body)).read_all()
