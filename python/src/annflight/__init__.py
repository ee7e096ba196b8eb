"""annflight: AnnData collections served over Apache Arrow Flight, read from Python.

    import annflight
    client = annflight.connect("grpc+tcp://127.0.0.1:8815")
    table = client.read({"collection": "demo", "obs_keys": ["cell_type"]})
"""
from .client import Client, connect
from .mapped import MappedCollection
from .errors import (AnnflightError, InvalidRequest, NotFound, ServerError, Unauthorized,
                     Unavailable)

__all__ = ["connect", "Client", "MappedCollection", "AnnflightError", "InvalidRequest", "NotFound",
           "Unauthorized", "Unavailable", "ServerError"]
__version__ = "0.1.0"
