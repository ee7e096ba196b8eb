"""Which server a client talks to: ``uri=`` when given, else the ``ANNFLIGHT_URI`` environment
variable, else a local server this process starts over the local file system.

The local server is one per process: the bundled jar on a free port of 127.0.0.1 with data
root ``/`` (so any local path is a request path), accepting only a random bearer token of this
process. Every dataset that needs it reuses it; forked DataLoader workers inherit it and spawned
ones find it through an environment variable; it is stopped when the interpreter exits.
"""
import atexit
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .engine import ServerProcess

URI_ENV = "ANNFLIGHT_URI"
# "<uri> <token>" of this process's local server, for spawned children (DataLoader workers).
_LOCAL_ENV = "ANNFLIGHT_LOCAL_SERVER"


@dataclass(frozen=True)
class Target:
    """A server to talk to. ``local``: the package's own server, whose request ``paths`` are
    local paths (absolute or relative to the working directory) rewritten to its data root."""
    uri: str
    token: Optional[str] = None
    local: bool = False

    def localise(self, request: dict) -> dict:
        """The request as this server takes it: local paths made relative to ``/``."""
        if not self.local or "paths" not in request:
            return request
        paths = request["paths"]
        listed = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        return {**request, "paths": [_root_relative(p) for p in listed]}


def _root_relative(path) -> str:
    absolute = os.path.abspath(os.fspath(path))
    return absolute.lstrip(os.sep) or absolute


def resolve(uri: Optional[str] = None, token: Optional[str] = None) -> Target:
    """``uri`` (with ``token``), else ``ANNFLIGHT_URI``, else the local server (started once)."""
    if uri is not None:
        return Target(str(uri), token)
    env = os.environ.get(URI_ENV)
    if env:
        return Target(env, token)
    return local_server()


class _LocalServer:
    def __init__(self):
        self._dir = tempfile.mkdtemp(prefix="annflight-local-")
        self.token = secrets.token_urlsafe(32)
        tokens = Path(self._dir) / "tokens.json"
        tokens.write_text(json.dumps({"tokens": [{
            "name": f"local-{os.getpid()}", "collections": ["*"], "paths": True,
            "sha256": hashlib.sha256(self.token.encode()).hexdigest()}]}))
        try:
            self.process = ServerProcess(
                ["--host", "127.0.0.1", "--port", "0", "--data-root", os.sep,
                 "--auth-tokens", str(tokens), "--warmup-seconds", "0",
                 "--drain-seconds", "1"], log_prefix="annflight-local-server-")
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self.target = Target(self.process.uri, self.token, local=True)

    def stop(self):
        self.process.stop()
        if os.getpid() == self.process.owner:
            shutil.rmtree(self._dir, ignore_errors=True)
            if os.environ.get(_LOCAL_ENV, "").startswith(self.target.uri + " "):
                del os.environ[_LOCAL_ENV]


_lock = threading.Lock()
_server: Optional[_LocalServer] = None


def local_server() -> Target:
    """This process's local server, started on first use (also inherited: a forked worker
    uses its parent's, a spawned one finds it in the environment)."""
    global _server
    with _lock:
        if _server is not None and _server.process.running():
            return _server.target
        inherited = os.environ.get(_LOCAL_ENV)
        if _server is None and inherited:
            uri, _, token = inherited.partition(" ")
            return Target(uri, token, local=True)
        if _server is not None:  # it died: say so rather than start another silently
            dead, _server = _server, None
            from .errors import ServerError
            raise ServerError(f"the local annflight server exited (code "
                              f"{dead.process.process.returncode}); its log: "
                              f"{dead.process.log_path}\n{dead.process.log_tail()}")
        _server = _LocalServer()
        os.environ[_LOCAL_ENV] = f"{_server.target.uri} {_server.token}"
        atexit.register(_stop_local_server)
        return _server.target


def _stop_local_server():
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def request_and_uri(first, second, uri: Optional[str], what: str):
    """``(request, uri)`` of a call in the current form ``what(request, uri=...)`` or the older
    ``what(uri, request)``, which warns (DeprecationWarning) and goes in the next release."""
    if isinstance(first, str):
        if second is None or uri is not None:
            raise TypeError(f"{what}(request, *, uri=None, ...): the request comes first")
        warnings.warn(f"{what}(uri, request, ...) is deprecated and goes in the next release: "
                      f"use {what}(request, uri=uri, ...)", DeprecationWarning, stacklevel=3)
        return second, first
    if second is not None:
        raise TypeError(f"{what}(request, *, uri=None, ...) takes one positional argument")
    return first, uri
