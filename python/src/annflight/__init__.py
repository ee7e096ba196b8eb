"""annflight: AnnData collections served over Apache Arrow Flight, read from Python.

    import annflight
    client = annflight.connect("grpc+tcp://127.0.0.1:8815")
    table = client.read({"collection": "demo", "obs_keys": ["cell_type"]})
"""
from .client import Client, connect, sign_in
from .mapped import MappedCollection
from .errors import (AnnflightError, InvalidRequest, NotFound, ResourceExhausted, ServerError,
                     Unauthorized, Unavailable)

__all__ = ["connect", "sign_in", "Client", "MappedCollection", "AnnflightError",
           "InvalidRequest", "NotFound", "Unauthorized", "Unavailable", "ResourceExhausted", "ServerError"]
__version__ = "0.1.0"
