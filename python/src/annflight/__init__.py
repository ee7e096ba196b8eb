"""annflight: AnnData collections served over Apache Arrow Flight, read from Python.

    import annflight
    client = annflight.connect()       # uri=..., else ANNFLIGHT_URI, else a local server
    table = client.read({"paths": ["a.h5ad", "b.zarr"], "obs_keys": ["cell_type"]})
"""
from .client import Client, connect, sign_in
from .engine import JavaNotFound, serve
from .mapped import MappedCollection
from .errors import (AnnflightError, InvalidRequest, NotFound, ResourceExhausted, ServerError,
                     Unauthorized, Unavailable)

__all__ = ["connect", "sign_in", "serve", "Client", "MappedCollection", "AnnflightError",
           "InvalidRequest", "NotFound", "Unauthorized", "Unavailable", "ResourceExhausted",
           "ServerError", "JavaNotFound"]
__version__ = "0.1.0"
