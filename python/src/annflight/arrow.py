"""Arrow columns as numpy, shared by the package's datasets."""
import threading
import weakref
from typing import Dict, Optional

import numpy as np
import pyarrow as pa


def _values_view(column: pa.FixedSizeListArray) -> np.ndarray:
    """A fixed-size-list column's values as a read-only 2-D view of the Arrow buffer. Slices
    are honoured: a sliced list's child still holds the whole batch."""
    width = column.type.list_size
    values = column.values.slice(column.offset * width, len(column) * width)
    return values.to_numpy(zero_copy_only=False).reshape(len(column), width)


def fixed_size_list_matrix(column: pa.FixedSizeListArray):
    """A fixed-size-list column as ``(matrix, valid)``: a writable 2-D copy of its values (Arrow
    buffers are read-only), and a bool array of the rows that hold values, or None when every
    row does (null rows are those of stores that lack the element; their values are arbitrary).
    """
    valid = column.is_valid().to_numpy(zero_copy_only=False) if column.null_count else None
    return np.array(_values_view(column)), valid


def nan_matrix(name: str, column: pa.FixedSizeListArray) -> np.ndarray:
    """A fixed-size-list column as a 2-D float array for tensors: a read-only view of the
    Arrow buffer unless some rows are null (rows of stores that lack the element), then a copy
    with those rows NaN (integer matrices cannot hold that)."""
    if not column.null_count:
        return _values_view(column)
    x, valid = fixed_size_list_matrix(column)
    check_null_rows_fit(name, x.dtype)
    x[~valid] = np.nan
    return x


def check_null_rows_fit(name: str, dtype) -> None:
    """Refuses to mark a column's null rows (of stores without it) in an integer tensor."""
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"column {name!r} has rows from stores without it, which an"
                         f" integer tensor cannot mark; request a float dtype")


def csr_null_rows(name: str, column: pa.ListArray, dtype) -> Optional[np.ndarray]:
    """A csr column's null rows (rows of stores without the matrix) as a bool array, None
    when there are none; refused (``check_null_rows_fit``) when ``dtype`` cannot mark them."""
    if not column.null_count:
        return None
    check_null_rows_fit(name, dtype)
    return ~column.is_valid().to_numpy(zero_copy_only=False)


N_COLS = b"annflight.n_cols"


def csr_parts(column: pa.ListArray):
    """A ``matrix_format: "csr"`` column (``List<Struct<index, value>>``) as the CSR triple
    ``(indptr, indices, values)`` of numpy arrays, views of the Arrow buffers where the column
    is not sliced (``indptr`` starts at 0 either way)."""
    offsets = column.offsets.to_numpy()
    lo, hi = int(offsets[0]), int(offsets[-1])
    entries = column.values.slice(lo, hi - lo)
    indices = entries.field("index").to_numpy(zero_copy_only=False)
    values = entries.field("value").to_numpy(zero_copy_only=False)
    return offsets - lo if lo else offsets, indices, values


def n_cols(field: pa.Field, column: pa.ListArray) -> int:
    """A csr column's row width: from the field's metadata (the server sets it when every row
    has the same variables), else one past the largest index seen."""
    meta = field.metadata or {}
    if N_COLS in meta:
        return int(meta[N_COLS])
    _, indices, _ = csr_parts(column)
    return int(indices.max()) + 1 if len(indices) else 0


def csr_matrix(column, field: pa.Field = None, shape=None):
    """A csr column as a ``scipy.sparse.csr_matrix`` (needs scipy)."""
    from scipy import sparse
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    indptr, indices, values = csr_parts(column)
    width = shape[1] if shape else (n_cols(field, column) if field is not None
                                    else (int(indices.max()) + 1 if len(indices) else 0))
    return sparse.csr_matrix((values, indices, indptr), shape=(len(column), width))


def scatter_rows(out: np.ndarray, indptr, indices, values, null_rows=None, *,
                 zero: bool = False) -> None:
    """CSR rows into the dense rows ``out`` in bulk assignments (bounds checked);
    ``null_rows`` (a bool array, or None) set to NaN. ``zero``: ``out`` is not zeroed yet;
    each run of rows is zeroed just before its entries land, while it is in the cache
    (zeroing the whole batch first, then scattering, goes through memory twice)."""
    if not out.flags.c_contiguous:  # reshape(-1) would copy, and the rows stay zero
        raise ValueError("scatter_rows needs C-contiguous rows")
    n, width = out.shape
    flat = out.reshape(-1)
    step = max(1, _SCATTER_RUN_BYTES // max(1, width * out.itemsize)) if zero else max(1, n)
    for s in range(0, n, step):
        e = min(n, s + step)
        if zero:
            flat[s * width:e * width] = 0
        lo, hi = int(indptr[s]), int(indptr[e])
        at = np.repeat(np.arange(s * width, e * width, width, dtype=np.int64),
                       np.diff(indptr[s:e + 1]))
        at += indices[lo:hi]  # each entry's element of the rows, in place: no temporary
        flat[at] = values[lo:hi]
    if null_rows is not None:
        out[null_rows] = np.nan


# Rows zeroed and scattered at a time: a run that stays in the CPU's cache between the two.
_SCATTER_RUN_BYTES = 512 << 10


class DenseRing:
    """Reusable memory for the dense matrices built on arrival from CSR rows. Fresh memory
    of a batch's size costs more than building the batch: the kernel zeroes and faults in
    each new page (about 3 us per 8 KB row here, against 1 us to zero it and scatter the
    row's entries into memory already mapped). A slot is in use from the moment a matrix is
    built in it until the caller has dropped that matrix and every view of it; the next
    matrix takes a free slot or a new one. At most ``max_slots`` are kept: beyond that the
    oldest is forgotten (never reused), so a caller who keeps batches pays memory as without
    the ring and never sees one overwritten."""

    def __init__(self, max_slots: int = 4):
        self._max_slots = max_slots
        self._slots = []  # [bytearray, in use]
        self._lock = threading.Lock()

    def empty(self, shape: tuple, dtype) -> np.ndarray:
        """A writable array of ``shape`` and ``dtype`` in a free slot, its values those the
        slot held (a batch the caller has dropped)."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        with self._lock:
            slot = next((s for s in self._slots if not s[1] and len(s[0]) >= nbytes), None)
            if slot is None:
                # With room to spare: batches of CSR rows differ a little in their row counts.
                slot = [bytearray(max(1, nbytes * 9 // 8)), False]
                if len(self._slots) >= self._max_slots:
                    free = [s for s in self._slots if not s[1]]
                    old = free[0] if free else self._slots[0]
                    self._slots = [s for s in self._slots if s is not old]  # by identity
                self._slots.append(slot)
            slot[1] = True
        # The slot's buffer is not an ndarray, so every view of `whole` (the matrix, and the
        # caller's slices of it) keeps `whole` itself alive: its end is the caller's last.
        whole = np.frombuffer(slot[0], dtype=np.uint8, count=nbytes)
        weakref.finalize(whole, _free_slot, slot)
        return whole.view(dtype).reshape(shape)


def _free_slot(slot: list) -> None:
    slot[1] = False


def csr_dense(name: str, field: pa.Field, column: pa.ListArray,
              ring: Optional[DenseRing] = None) -> np.ndarray:
    """A ``matrix_format: "csr"`` column as a dense 2-D numpy array (zeros where no entry;
    NaN rows for rows of stores without the matrix), built in ``ring`` when given."""
    indptr, indices, values = csr_parts(column)
    shape = (len(column), n_cols(field, column))
    out = ring.empty(shape, values.dtype) if ring is not None else np.empty(shape,
                                                                            values.dtype)
    scatter_rows(out, indptr, indices, values, csr_null_rows(name, column, values.dtype),
                 zero=True)
    return out


def batch_arrays(batch: pa.RecordBatch,
                 ring: Optional[DenseRing] = None) -> Dict[str, np.ndarray]:
    """A record batch as numpy arrays by column name: matrices 2-D (fixed-size lists as
    read-only views of the Arrow buffers, NaN rows where null; csr columns densified, see
    ``csr_dense``), labels as their integer codes (-1: no label), other columns as arrays."""
    out = {}
    for field, column in zip(batch.schema, batch.columns):
        name = field.name
        if pa.types.is_fixed_size_list(column.type):
            out[name] = nan_matrix(name, column)
        elif pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type):
            out[name] = csr_dense(name, field, column, ring)
        elif pa.types.is_dictionary(column.type):
            out[name] = label_codes(column)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


def label_codes(column: pa.DictionaryArray) -> np.ndarray:
    """A label column's integer codes (a writable array of their own), -1 where a row has no
    label. Without nulls, the usual case, a copy of the indices: filling nulls is a compute
    call, about 50 us a batch."""
    if column.null_count == 0:
        return np.array(column.indices.to_numpy(zero_copy_only=False))
    return column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
