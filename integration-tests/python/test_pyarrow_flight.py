"""pyarrow.flight against the real server: discovery, every endpoint (also from threads),
hand-built tickets, every action; values compared with anndata/pandas (expected.py)."""
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import pytest

from arrow_values import (action, action_json, action_table, assert_collection,
                          assert_rows_equal, codes, dictionaries, matrix, rows)
from conftest import (DEMO_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS, FIX_PATHS, MAX_ROWS_PER_ENDPOINT,
                      READ_OPTIONS)
from expected import Expected, read_demo

FIX = Expected(FIX_PATHS, FIX_OBS_KEYS, FIX_OBSM_KEYS)


def fixed_list(value_type, width):
    return pa.list_(pa.field("item", value_type, nullable=False), width)


def read_endpoints(client, info) -> pa.Table:
    return pa.concat_tables(client.do_get(ep.ticket, READ_OPTIONS).read_all()
                            for ep in info.endpoints)


# ------------------------------------------------------------------------------ discovery

def test_list_flights_offers_every_configured_collection(client):
    infos = {tuple(i.descriptor.path): i for i in client.list_flights()}
    assert set(infos) == {(b"fix",), (b"demo",)}
    assert infos[(b"fix",)].total_records == FIX.n_obs
    assert infos[(b"demo",)].total_records == sum(read_demo(p).n_obs for p in DEMO_PATHS)


def test_flight_info_has_schema_and_ordered_endpoints_covering_every_row(client, server):
    info = client.get_flight_info(fl.FlightDescriptor.for_path("fix"), READ_OPTIONS)
    assert info.total_records == FIX.n_obs
    assert info.schema.names == ["_store_idx", "X", "cell_type", "tissue", "obsm_X_pca"]
    assert info.schema.field("_store_idx").type == pa.int32()
    assert not info.schema.field("_store_idx").nullable
    assert info.schema.field("X").type == fixed_list(pa.float32(), len(FIX.var_joint))
    assert info.schema.field("cell_type").type == pa.dictionary(pa.int32(), pa.utf8())
    assert info.schema.field("obsm_X_pca").type.list_size == FIX.obsm("X_pca")[0].shape[0]
    assert client.get_schema(fl.FlightDescriptor.for_path("fix")).schema == info.schema
    # Endpoints: [0, n_obs) in order, no store split over an endpoint, none over the cap.
    ranges = [(json.loads(ep.ticket.ticket)["start"], json.loads(ep.ticket.ticket)["stop"])
              for ep in info.endpoints]
    assert ranges[0][0] == 0 and ranges[-1][1] == FIX.n_obs
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert all(0 < stop - start <= MAX_ROWS_PER_ENDPOINT for start, stop in ranges)
    offsets = set(np.cumsum([0] + [a.n_obs for a in FIX.stores]).tolist())
    assert offsets <= {r[0] for r in ranges} | {FIX.n_obs}
    assert len(ranges) > len(FIX_PATHS)  # the cap split the larger stores
    for ep in info.endpoints:
        assert [loc.uri.decode() for loc in ep.locations] == [server.uri]


# ------------------------------------------------------------------------------ reading

def test_every_endpoint_read_in_order_gives_the_joined_collection(client):
    info = client.get_flight_info(fl.FlightDescriptor.for_path("fix"), READ_OPTIONS)
    table = read_endpoints(client, info)
    assert table.num_rows == FIX.n_obs
    assert_collection(table, FIX)


def test_endpoints_read_in_parallel_threads_give_the_same_rows(client, server):
    info = client.get_flight_info(fl.FlightDescriptor.for_path("fix"), READ_OPTIONS)

    def read(ep):  # through each endpoint's own location, one client per thread
        with fl.connect(ep.locations[0]) as c:
            return c.do_get(ep.ticket, READ_OPTIONS).read_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(read, info.endpoints * 3))
    n = len(info.endpoints)
    for i in range(n):  # the same endpoint read three times concurrently gives the same rows
        assert parts[i].equals(parts[i + n]) and parts[i].equals(parts[i + 2 * n])
    assert_collection(pa.concat_tables(parts[:n]), FIX)


def test_hand_built_range_ticket(client):
    start, stop = 55, 120  # crosses dense.h5ad -> csr.zarr -> csc.h5ad
    ticket = fl.Ticket(json.dumps({"request": {"collection": "fix"},
                                   "start": start, "stop": stop}).encode())
    table = client.do_get(ticket, READ_OPTIONS).read_all()
    assert table.num_rows == stop - start
    assert_collection(table, FIX, select=list(range(start, stop)))


def test_hand_built_index_ticket_keeps_order_and_duplicates(client):
    indices = [17, 3, 3, FIX.n_obs - 1, 0, 64, 112, 64]
    ticket = fl.Ticket(json.dumps({"request": {"collection": "fix"},
                                   "indices": indices}).encode())
    table = client.do_get(ticket, READ_OPTIONS).read_all()
    assert_collection(table, FIX, select=indices)


def test_command_request_outer_join_filter_unknown_label_and_dtype(client):
    req = {"paths": ["dense.h5ad", "csr.zarr"], "join": "outer",
           "obs_keys": ["cell_type", "donor"], "obsm_keys": ["X_pca"],
           "obs_filter": {"tissue": ["lung", "liver"]}, "unknown_label": "unknown",
           "dtype": "float64"}
    exp = Expected(req["paths"], req["obs_keys"], req["obsm_keys"], join="outer",
                   obs_filter=req["obs_filter"], unknown_label="unknown")
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(req)), READ_OPTIONS)
    assert info.total_records == exp.n_obs
    assert info.schema.field("X").type == fixed_list(pa.float64(), len(exp.var_joint))
    table = read_endpoints(client, info)
    np.testing.assert_array_equal(table["_store_idx"].to_numpy(), exp.store_idx())
    np.testing.assert_array_equal(matrix(table["X"], np.float64), exp.X().astype(np.float64))
    assert "unknown" in exp.merged_categories("cell_type")
    assert "unknown" not in exp.dictionary("cell_type")
    for key in req["obs_keys"]:
        assert all(d == exp.dictionary(key) for d in dictionaries(table[key]))
        assert codes(table[key]) == exp.codes(key)
    assert_rows_equal(rows(table["obsm_X_pca"], np.float64),
                      [r.astype(np.float64) for r in exp.obsm("X_pca")])
    # lamindb's -1 for the unknown label: fill_null on the indices.
    minus_one = pa.chunked_array([c.indices for c in table["cell_type"].chunks]).fill_null(-1)
    assert minus_one.to_pylist() == [-1 if c is None else c for c in exp.codes("cell_type")]


def test_bad_request_names_the_key_and_leaves_the_server_serving(client):
    bad = {"collection": "fix", "obs_keys": ["no_such_column"]}
    with pytest.raises(pa.ArrowInvalid, match="no_such_column"):
        client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(bad)))
    with pytest.raises(pa.ArrowInvalid, match="nope"):
        client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"nope": 1})))
    assert client.get_flight_info(fl.FlightDescriptor.for_path("fix")).total_records == FIX.n_obs


# ------------------------------------------------------------------------------ actions

ACTIONS = {"shape", "original_shapes", "var_joint", "check_vars_sorted",
           "check_vars_non_aligned", "get_merged_categories", "get_merged_labels",
           "get_label_weights", "describe"}


def test_list_actions_names_every_action(client):
    # MappedCollection's methods and describe, plus the server's own status.
    assert {a.type for a in client.list_actions()} == ACTIONS | {"server_status"}


def test_shape_original_shapes_and_var_joint(client):
    body = {"collection": "fix"}
    assert action_json(client, "shape", body) == FIX.shape
    assert action_json(client, "original_shapes", body) == FIX.original_shapes()
    assert action_json(client, "var_joint", body) == list(FIX.var_joint)
    filtered = {"collection": "fix", "obs_filter": {"cell_type": "B cell"}}
    exp = Expected(FIX_PATHS, obs_filter={"cell_type": "B cell"})
    assert action_json(client, "shape", filtered) == exp.shape
    assert action_json(client, "original_shapes", filtered) == exp.original_shapes()


def test_check_vars_sorted_and_non_aligned(client):
    def monotonic(paths, ascending):
        return all((v.is_monotonic_increasing if ascending else v.is_monotonic_decreasing)
                   for v in Expected(paths).vars)

    for paths in (FIX_PATHS, ["dense.h5ad", "csc.h5ad"], ["csr.zarr"]):
        for ascending in (True, False):
            body = {"paths": paths, "args": {"ascending": ascending}}
            assert action_json(client, "check_vars_sorted", body) == monotonic(paths, ascending)
    dense_vars = list(FIX.vars[0])
    got = action_json(client, "check_vars_non_aligned",
                      {"collection": "fix", "args": {"vars": dense_vars}})
    assert got == [i for i, v in enumerate(FIX.vars) if list(v) != dense_vars]
    assert got == [1]  # csr.zarr: reversed, wider var index


@pytest.mark.parametrize("key", ["cell_type", "tissue", "donor", "n_genes"])
def test_merged_categories_and_labels(client, key):
    body = {"collection": "fix", "args": {"label_key": key}}
    assert action_json(client, "get_merged_categories", body) == FIX.merged_categories(key)
    labels = action_table(client, "get_merged_labels", body)
    assert labels.column_names == [key]
    assert labels[key].to_pylist() == FIX.merged_labels(key)


@pytest.mark.parametrize("keys,scaler", [("cell_type", None), (["cell_type", "tissue"], None),
                                         ("cell_type", 10), (["donor", "tissue"], None)])
def test_label_weights(client, keys, scaler):
    args = {"obs_keys": keys} if scaler is None else {"obs_keys": keys, "scaler": scaler}
    weights, categories = FIX.label_weights(keys, scaler)
    got = action_table(client, "get_label_weights", {"collection": "fix", "args": args})
    assert got.column_names == ["weight"] and got["weight"].type == pa.float64()
    np.testing.assert_allclose(got["weight"].to_numpy(), weights, rtol=0, atol=1e-15)
    got_cats = action_json(client, "get_label_weights",
                           {"collection": "fix", "args": {**args, "return_categories": True}})
    assert got_cats.keys() == categories.keys()
    for label, w in categories.items():
        assert got_cats[label] == pytest.approx(w, rel=1e-15)


def test_describe(client):
    d = action_json(client, "describe", {"collection": "fix"})
    assert d["n_obs"] == FIX.n_obs and d["n_vars"] == len(FIX.var_joint)
    assert [c["name"] for c in d["columns"]] == ["_store_idx", "X", "cell_type", "tissue",
                                                 "obsm_X_pca"]
    assert [s["path"].split("/")[-1] for s in d["stores"]] == FIX_PATHS
    assert [s["n_obs"] for s in d["stores"]] == [a.n_obs for a in FIX.stores]
    assert [s["n_vars"] for s in d["stores"]] == [a.n_vars for a in FIX.stores]
    assert [s["offset"] for s in d["stores"]] == np.cumsum(
        [0] + [a.n_obs for a in FIX.stores])[:-1].tolist()
    assert [sorted(s["obsm"]) for s in d["stores"]] == [sorted(a.obsm.keys()) for a in FIX.stores]
    assert [s["has_raw"] for s in d["stores"]] == [a.raw is not None for a in FIX.stores]
    assert d["request"]["obs_keys"] == FIX_OBS_KEYS


def test_action_errors_name_the_argument(client):
    with pytest.raises(pa.ArrowInvalid, match="bogus"):
        action(client, "shape", {"collection": "fix", "args": {"bogus": 1}})
    with pytest.raises(KeyError, match="no_such"):  # NOT_FOUND is pyarrow's ArrowKeyError
        action(client, "shape", {"collection": "no_such"})
