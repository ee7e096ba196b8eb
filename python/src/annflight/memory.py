"""Keeping this process's freed message memory for the next message (glibc's malloc).

gRPC reads a stream's messages into buffers it allocates with malloc, and Flight copies each
message into one more malloc'd buffer of its size (megabytes). glibc gives blocks that large
back to the kernel when they are freed (mmap'd blocks, and the top of a thread's arena beyond
its trim threshold), so every message lands in fresh pages the kernel zeroes and faults in:
a fifth of the client's CPU time on a stream of 8 MiB CSR messages. Raising both thresholds
keeps those blocks in the process, to be reused by the next message.
"""
import ctypes
import sys

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to 32 MiB (glibc's largest mmap threshold on 64-bit) come from the arenas, and an
# arena keeps up to 64 MiB free at its top before trimming: a few messages in flight.
MMAP_THRESHOLD_BYTES = 32 << 20
TRIM_THRESHOLD_BYTES = 64 << 20

_applied = None


def reuse_message_memory() -> bool:
    """Sets glibc's mmap and trim thresholds for this process once (later calls do nothing);
    True when glibc accepted them, False elsewhere (another C library, another system)."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc only: other C libraries ignore these parameters
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
