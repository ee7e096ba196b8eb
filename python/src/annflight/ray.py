"""Ray Data: an annflight request as a ``ray.data.Dataset``, one read task per endpoint.

    import ray
    from annflight.ray import read_annflight
    ds = read_annflight({"collection": "demo", "obs_keys": ["cell_type"]},
                        uri="grpc+tcp://127.0.0.1:8815")
    ds.map_batches(...); ds.iter_torch_batches(batch_size=256); ray.train ...

Each read task fetches one endpoint from its replica (the first of its locations, which the
task's metadata names as its input), failing over to the alternates, and yields one block per
record batch: matrices (``X``, layers, ``obsm_*``) as Ray tensor columns ``[rows, n]`` (rows of
stores without the element NaN), labels as int64 codes into the merged categories (-1 for
missing; ``get_merged_categories`` names them), other columns as they come.
"""
import functools
import json
import math
from typing import Iterator, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from .arrow import label_codes, nan_matrix
from .client import (_READ_OPTIONS, Client, auth_headers, connect_args, endpoint_batches,
                     endpoint_locations, sized_by_bytes)
from .target import request_and_uri, resolve


def read_annflight(request: dict, _request_after_uri: Optional[dict] = None, *,
                   uri: Optional[str] = None, parallelism: Optional[int] = None,
                   token: Optional[str] = None,
                   tls_root_certs: Optional[bytes] = None) -> "ray.data.Dataset":
    """The request's rows as a Ray dataset, in the request's order across its blocks.

    ``uri``: the server, else ``ANNFLIGHT_URI``, else a local one (:mod:`annflight.target`;
    the older ``read_annflight(uri, request)`` form warns). ``parallelism``: None reads the
    server's endpoints as they are (one task each); a number asks the server for about that
    many endpoints (``rows_per_endpoint``)."""
    request, uri = request_and_uri(request, _request_after_uri, uri, "read_annflight")
    target = resolve(uri, token)
    uri, token, request = target.uri, target.token, target.localise(request)
    # Blocks by bytes: as many rows as the stores' real row sizes allow, whatever the width.
    source = AnnflightDatasource(uri, sized_by_bytes(request), parallelism=parallelism,
                                 token=token,
                                 tls_root_certs=tls_root_certs)
    return ray.data.read_datasource(source, override_num_blocks=len(source.endpoints))


class AnnflightDatasource(Datasource):
    """The endpoints of one request; each read task streams one of them."""

    def __init__(self, uri: str, request: dict, *, parallelism: Optional[int] = None,
                 token: Optional[str] = None, tls_root_certs: Optional[bytes] = None):
        super().__init__()
        self.uri, self.token, self.tls_root_certs = uri, token, tls_root_certs
        with Client(uri, token=token, tls_root_certs=tls_root_certs) as client:
            info = client.info(request)
            if parallelism is not None:
                if parallelism <= 0:
                    raise ValueError(f"parallelism must be positive, got {parallelism}")
                per = max(1, math.ceil(info.total_records / parallelism))
                info = client.info({**request, "rows_per_endpoint": per})
        self.schema = info.schema
        self.total_rows = info.total_records
        self.endpoints = [(endpoint_locations(e, uri), json.loads(e.ticket.ticket))
                          for e in info.endpoints]

    def estimate_inmemory_data_size(self) -> Optional[int]:
        row_bytes = sum(_field_bytes(f) for f in self.schema)
        return int(row_bytes * self.total_rows)

    def get_read_tasks(self, parallelism: int, per_task_row_limit: Optional[int] = None,
                       data_context=None) -> List[ReadTask]:
        headers = auth_headers(self.token)
        tls = connect_args(self.tls_root_certs)
        row_bytes = sum(_field_bytes(f) for f in self.schema)
        tasks = []
        for locations, ticket in self.endpoints:
            rows = _ticket_rows(ticket)

            # A module function (pickled by reference), run by a Ray worker.
            read = functools.partial(_read_endpoint, locations, ticket, headers, tls)
            metadata = BlockMetadata(num_rows=rows, size_bytes=int(rows * row_bytes),
                                     exec_stats=None, input_files=tuple(locations[:1]))
            tasks.append(ReadTask(read, metadata, per_task_row_limit=per_task_row_limit))
        return tasks

    def get_name(self) -> str:
        return "Annflight"


def _read_endpoint(locations, ticket, headers, tls) -> Iterator[pa.Table]:
    options = fl.FlightCallOptions(headers=headers, read_options=_READ_OPTIONS)
    for batch in endpoint_batches(locations, ticket, options, tls):
        yield _block(batch)


def _ticket_rows(ticket: dict) -> int:
    if "indices" in ticket:
        return len(ticket["indices"])
    return int(ticket["stop"] - ticket["start"])


def _field_bytes(field: pa.Field) -> float:
    t = field.type
    if pa.types.is_fixed_size_list(t):
        return t.list_size * max(1, t.value_type.bit_width // 8)
    try:
        return max(1, t.bit_width // 8)
    except ValueError:
        return 16  # variable width: a guess, only for Ray's planning


def _block(batch: pa.RecordBatch) -> pa.Table:
    """A record batch as a Ray block: matrices as tensor columns, labels as int64 codes."""
    from ray.data.extensions import ArrowTensorArray

    columns, names = [], []
    for field, column in zip(batch.schema, batch.columns):
        if pa.types.is_fixed_size_list(field.type):
            column = ArrowTensorArray.from_numpy(nan_matrix(field.name, column))
        elif pa.types.is_dictionary(field.type):
            column = pa.array(label_codes(column).astype(np.int64))
        columns.append(column)
        names.append(field.name)
    return pa.Table.from_arrays(columns, names=names)
