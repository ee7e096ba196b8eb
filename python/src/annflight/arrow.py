"""Arrow columns as numpy, shared by the package's datasets."""
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
