"""A small Zarr v3 directory-store writer and reader, written from the Zarr v3 specification
(https://zarr-specs.readthedocs.io/en/latest/v3/core/v3.0.html and its codec and sharding
extensions) with numpy, numcodecs and json only. No zarr-python 3 is available here; this is
what annflight's fixtures are written with and what its compatibility check decodes real v3
stores with, independently of the server's Java reader.

Supported: groups and arrays; data types bool, int/uint 8-64, float32/64, string; the regular
chunk grid; chunk key encodings ``default`` (either separator) and ``v2``; codecs
``transpose``, ``bytes`` (little/big), ``vlen-utf8``, ``sharding_indexed`` (index at start or
end), ``zstd``, ``gzip``, ``blosc``, ``crc32c``; fill values, missing chunks and missing inner
chunks.
"""
import gzip
import itertools
import json
import math
import struct
from pathlib import Path
from typing import Dict, List, Optional

import numcodecs
import numpy as np

MISSING = 2 ** 64 - 1

DTYPES = {"bool": "bool", "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
          "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64",
          "float32": "float32", "float64": "float64", "string": "object"}


# ---- crc32c (Castagnoli), as the crc32c codec specifies: 4 little-endian bytes appended ------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---- codecs ---------------------------------------------------------------------------------

def _bytes_codec(spec: dict):
    name = spec["name"]
    cfg = spec.get("configuration", {})
    if name == "zstd":
        return numcodecs.Zstd(level=cfg.get("level", 0))
    if name == "gzip":
        return _Gzip(cfg.get("level", 5))
    if name == "blosc":
        shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[cfg.get("shuffle", "shuffle")]
        return numcodecs.Blosc(cname=cfg.get("cname", "lz4"), clevel=cfg.get("clevel", 5),
                               shuffle=shuffle, blocksize=cfg.get("blocksize", 0))
    if name == "crc32c":
        return _Crc32c()
    raise ValueError(f"unsupported bytes codec {name}")


class _Gzip:
    """gzip without a timestamp in its header, so fixtures rewrite byte for byte."""

    def __init__(self, level: int):
        self.level = level

    def encode(self, data: bytes) -> bytes:
        return gzip.compress(bytes(data), compresslevel=self.level, mtime=0)

    def decode(self, data: bytes) -> bytes:
        return gzip.decompress(bytes(data))


class _Crc32c:
    def encode(self, data: bytes) -> bytes:
        return bytes(data) + struct.pack("<I", crc32c(bytes(data)))

    def decode(self, data: bytes) -> bytes:
        data = bytes(data)
        body, stored = data[:-4], struct.unpack("<I", data[-4:])[0]
        if crc32c(body) != stored:
            raise ValueError("crc32c mismatch")
        return body


def _encode_chunk(block: np.ndarray, codecs: List[dict], dtype: str) -> bytes:
    """Encodes a full (padded) chunk through a codec chain (no sharding here)."""
    data = block
    out = None
    for spec in codecs:
        name = spec["name"]
        cfg = spec.get("configuration", {})
        if name == "transpose":
            data = np.transpose(data, cfg["order"])
        elif name == "bytes":
            order = "<" if cfg.get("endian", "little") == "little" else ">"
            arr = np.ascontiguousarray(data)
            out = arr.astype(arr.dtype.newbyteorder(order) if arr.dtype.itemsize > 1
                             else arr.dtype).tobytes()
        elif name == "vlen-utf8":
            out = numcodecs.VLenUTF8().encode(np.ascontiguousarray(data).reshape(-1))
        else:
            out = _bytes_codec(spec).encode(out)
            out = bytes(out)
    return out


def _decode_chunk(raw: bytes, codecs: List[dict], dtype: str, shape) -> np.ndarray:
    bytes_codecs = [c for c in codecs if c["name"] not in ("transpose", "bytes", "vlen-utf8")]
    data = raw
    for spec in reversed(bytes_codecs):
        data = _bytes_codec(spec).decode(data)
    transposes = [c for c in codecs if c["name"] == "transpose"]
    stored_shape = list(shape)
    for t in transposes:
        stored_shape = [stored_shape[i] for i in t["configuration"]["order"]]
    a2b = next(c for c in codecs if c["name"] in ("bytes", "vlen-utf8"))
    if a2b["name"] == "vlen-utf8":
        arr = numcodecs.VLenUTF8().decode(bytes(data)).reshape(stored_shape)
    else:
        order = "<" if a2b.get("configuration", {}).get("endian", "little") == "little" else ">"
        np_dt = np.dtype(DTYPES[dtype])
        if np_dt.itemsize > 1:
            np_dt = np_dt.newbyteorder(order)
        arr = np.frombuffer(bytes(data), dtype=np_dt).reshape(stored_shape)
    for t in reversed(transposes):
        arr = np.transpose(arr, np.argsort(t["configuration"]["order"]))
    return arr


# ---- writing --------------------------------------------------------------------------------

def write_group(path: Path, attributes: Optional[dict] = None):
    path.mkdir(parents=True, exist_ok=True)
    meta = {"zarr_format": 3, "node_type": "group", "attributes": attributes or {}}
    (path / "zarr.json").write_text(json.dumps(meta, indent=2))


def _key(index, encoding: dict) -> str:
    name = encoding.get("name", "default")
    sep = encoding.get("configuration", {}).get("separator", "/" if name == "default" else ".")
    if name == "default":
        return sep.join(["c"] + [str(i) for i in index])
    return sep.join(str(i) for i in index) if index else "0"


def _fill(dtype: str, fill_value):
    if dtype == "string":
        return fill_value if fill_value is not None else ""
    if isinstance(fill_value, str):
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[fill_value]
    return fill_value


def write_array(path: Path, data, *, chunks=None, codecs=None, shard=None, attributes=None,
                fill_value=0, key_encoding=None, skip_fill_chunks=False, index_location="end",
                index_codecs=None):
    """Writes ``data`` (numpy; strings as an object array) as a v3 array.

    ``codecs`` is the chain of the (inner) chunks; with ``shard`` (the shard shape, a multiple
    of ``chunks``) the array is sharded and ``codecs`` apply to the inner chunks.
    ``skip_fill_chunks`` leaves out chunks (or inner chunks) that hold only the fill value.
    """
    data = np.asarray(data)
    if data.dtype.kind in ("U", "O"):
        dtype = "string"
        data = data.astype(object)
        fill_value = "" if fill_value == 0 else fill_value
    else:
        dtype = data.dtype.name
    chunks = list(chunks or data.shape or [])
    codecs = codecs or ([{"name": "vlen-utf8"}] if dtype == "string"
                        else [{"name": "bytes", "configuration": {"endian": "little"}}])
    key_encoding = key_encoding or {"name": "default", "configuration": {"separator": "/"}}
    path.mkdir(parents=True, exist_ok=True)
    grid = list(shard) if shard else chunks
    if shard:
        index_codecs = index_codecs or [{"name": "bytes", "configuration": {"endian": "little"}},
                                        {"name": "crc32c"}]
        top = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": chunks, "codecs": codecs, "index_codecs": index_codecs,
            "index_location": index_location}}]
    else:
        top = codecs
    meta = {"zarr_format": 3, "node_type": "array", "shape": list(data.shape),
            "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
            "chunk_key_encoding": key_encoding, "fill_value": fill_value, "codecs": top,
            "attributes": attributes or {}, "storage_transformers": []}
    (path / "zarr.json").write_text(json.dumps(meta, indent=2))
    fill = _fill(dtype, fill_value)

    def block(origin, shape):
        out = np.full(shape, fill, dtype=object if dtype == "string" else data.dtype)
        sl = tuple(slice(o, min(o + s, n)) for o, s, n in zip(origin, shape, data.shape))
        part = data[sl]
        out[tuple(slice(0, p) for p in part.shape)] = part
        return out, part

    def only_fill(part):
        if dtype == "string":
            return all(v == fill for v in part.reshape(-1))
        if isinstance(fill, float) and math.isnan(fill):
            return bool(np.isnan(part).all())
        return bool((part == fill).all())

    counts = [max(1, math.ceil(n / c)) for n, c in zip(data.shape, grid)] if data.shape else []
    for index in itertools.product(*[range(c) for c in counts]):
        origin = [i * g for i, g in zip(index, grid)]
        file = path / _key(index, key_encoding)
        if not shard:
            full, part = block(origin, chunks)
            if skip_fill_chunks and only_fill(part):
                continue
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(_encode_chunk(full, codecs, dtype))
            continue
        per = [s // c for s, c in zip(shard, chunks)]
        pieces, table = [], []
        offset = _index_bytes(per, index_codecs) if index_location == "start" else 0
        for inner in itertools.product(*[range(p) for p in per]):
            o = [a + i * c for a, i, c in zip(origin, inner, chunks)]
            if any(x >= n for x, n in zip(o, data.shape)):
                table.append((MISSING, MISSING))
                continue
            full, part = block(o, chunks)
            if skip_fill_chunks and only_fill(part):
                table.append((MISSING, MISSING))
                continue
            enc = _encode_chunk(full, codecs, dtype)
            table.append((offset, len(enc)))
            pieces.append(enc)
            offset += len(enc)
        if skip_fill_chunks and not pieces:
            continue
        index_raw = b"".join(struct.pack("<QQ", a, b) for a, b in table)
        for spec in index_codecs[1:]:
            index_raw = bytes(_bytes_codec(spec).encode(index_raw))
        file.parent.mkdir(parents=True, exist_ok=True)
        body = b"".join(pieces)
        file.write_bytes(index_raw + body if index_location == "start" else body + index_raw)


def _index_bytes(per, index_codecs) -> int:
    n = 16 * int(np.prod(per))
    return n + 4 * sum(1 for c in index_codecs if c["name"] == "crc32c")


# ---- reading --------------------------------------------------------------------------------

def node(path: Path) -> Optional[dict]:
    f = path / "zarr.json"
    return json.loads(f.read_text()) if f.is_file() else None


def children(path: Path) -> List[str]:
    return sorted(p.name for p in path.iterdir() if (p / "zarr.json").is_file())


def read_array(path: Path) -> np.ndarray:
    """The whole array, decoded chunk by chunk (inner chunk by inner chunk when sharded)."""
    meta = node(path)
    shape = meta["shape"]
    dtype = meta["data_type"]
    grid = meta["chunk_grid"]["configuration"]["chunk_shape"]
    encoding = meta.get("chunk_key_encoding", {"name": "default"})
    fill = _fill(dtype, meta.get("fill_value"))
    out = np.full(shape, fill, dtype=object if dtype == "string" else DTYPES[dtype])
    codecs = meta["codecs"]
    shard = codecs[0] if codecs[0]["name"] == "sharding_indexed" else None
    counts = [max(1, math.ceil(n / c)) for n, c in zip(shape, grid)] if shape else []

    def place(origin, chunk_shape, arr):
        sl = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, chunk_shape, shape))
        out[sl] = arr[tuple(slice(0, s.stop - s.start) for s in sl)] if shape else arr

    for index in itertools.product(*[range(c) for c in counts]):
        origin = [i * g for i, g in zip(index, grid)]
        file = path / _key(index, encoding)
        if not file.is_file():
            continue
        raw = file.read_bytes()
        if not shard:
            place(origin, grid, _decode_chunk(raw, codecs, dtype, grid))
            continue
        cfg = shard["configuration"]
        inner = cfg["chunk_shape"]
        per = [s // c for s, c in zip(grid, inner)]
        nbytes = _index_bytes(per, cfg["index_codecs"])
        at_end = cfg.get("index_location", "end") == "end"
        index_raw = raw[-nbytes:] if at_end else raw[:nbytes]
        for spec in reversed([c for c in cfg["index_codecs"] if c["name"] != "bytes"]):
            index_raw = _bytes_codec(spec).decode(index_raw)
        table = np.frombuffer(bytes(index_raw), dtype="<u8").reshape(-1, 2)
        for k, pos in enumerate(itertools.product(*[range(p) for p in per])):
            off, n = int(table[k][0]), int(table[k][1])
            if off == MISSING and n == MISSING:
                continue
            o = [a + i * c for a, i, c in zip(origin, pos, inner)]
            if any(x >= m for x, m in zip(o, shape)):
                continue
            place(o, inner, _decode_chunk(raw[off:off + n], cfg["codecs"], dtype, inner))
    return out
