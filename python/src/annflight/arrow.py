"""Arrow columns as numpy, shared by the package's datasets."""
import numpy as np
import pyarrow as pa


def fixed_size_list_matrix(column: pa.FixedSizeListArray):
    """A fixed-size-list column as ``(matrix, valid)``: a writable 2-D copy of its values (Arrow
    buffers are read-only), and a bool array of the rows that hold values, or None when every
    row does (null rows are those of stores that lack the element; their values are arbitrary).
    Slices are honoured: a sliced list's child still holds the whole batch."""
    width = column.type.list_size
    n = len(column)
    values = column.values.slice(column.offset * width, n * width)
    matrix = np.array(values.to_numpy(zero_copy_only=False)).reshape(n, width)
    valid = column.is_valid().to_numpy(zero_copy_only=False) if column.null_count else None
    return matrix, valid
