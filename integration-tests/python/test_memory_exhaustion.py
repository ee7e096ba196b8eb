"""A store too large for the server's heap: opening or reading it answers RESOURCE_EXHAUSTED
naming the store, the element and the heap limit, never a damaged file; the server keeps
serving other stores.

The store (written here with h5py, 500,000 observations and variables with no matrix entries)
is healthy: anndata reads it. Every element a request may read first is large (obs index, a
string obs column, var index), so the request exhausts the heap whether the obs frame is
decoded when the store opens or on first use. The server runs with -Xmx48m in its own process.
"""
import json
import shutil

import anndata
import h5py
import numpy as np
import pyarrow.flight as fl
import pytest

from conftest import start_jar, stop_jar
from expected import FIXTURES

N = 500_000
HEAP = "48m"


def write_large(path):
    names = np.array([f"cell_{i:09d}" for i in range(N)], dtype=object)
    with h5py.File(path, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})

        def strings(g, name, values):
            d = g.create_dataset(name, data=values, dtype=h5py.string_dtype(), chunks=(65536,),
                                 compression="gzip")
            d.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})

        for frame, columns in (("obs", ["barcode"]), ("var", [])):
            g = f.create_group(frame)
            g.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0",
                            "_index": "_index",
                            "column-order": np.array(columns, dtype=h5py.string_dtype())})
            strings(g, "_index", names)
            for c in columns:
                strings(g, c, names)
        x = f.create_group("X")
        x.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0",
                        "shape": np.array([N, N])})
        x.create_dataset("data", data=np.zeros(0, np.float32))
        x.create_dataset("indices", data=np.zeros(0, np.int32))
        x.create_dataset("indptr", data=np.zeros(N + 1, np.int64), chunks=(65536,),
                         compression="gzip")


@pytest.fixture(scope="module")
def small_heap_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("large")
    write_large(root / "large.h5ad")
    backed = anndata.read_h5ad(root / "large.h5ad", backed="r")  # healthy: anndata reads it
    assert backed.shape == (N, N) and backed.obs_names[-1] == f"cell_{N - 1:09d}"
    backed.file.close()
    shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
    proc, uri, log = start_jar(["--data-root", str(root)], jvm_args=[f"-Xmx{HEAP}"])
    try:
        yield uri, proc
    finally:
        stop_jar(proc)


def get(client, request):
    ticket = json.dumps({"request": request, "start": 0, "stop": 1}).encode()
    return client.do_get(fl.Ticket(ticket)).read_all()


@pytest.mark.parametrize("request_", [
    {"paths": ["large.h5ad"]},
    {"paths": ["large.h5ad"], "layers_keys": [], "obs_filter": {"barcode": "cell_000000005"}},
], ids=["plain", "obs_filter"])
def test_a_store_larger_than_the_heap_is_resource_exhausted_naming_the_limit(
        small_heap_server, request_):
    uri, proc = small_heap_server
    with fl.connect(uri) as client:
        with pytest.raises(Exception) as failure:  # pyarrow raises RESOURCE_EXHAUSTED as ArrowInvalid
            get(client, request_)
        message = str(failure.value)
        assert "resource exhausted" in message, message
        assert "large.h5ad at '" in message and "-Xmx 48 MiB" in message, message
        assert "corrupt" not in message and "impossible" not in message, message
        # The server stays up and serves a store that fits.
        assert get(client, {"paths": ["dense.h5ad"]}).num_rows == 1
    assert proc.poll() is None
