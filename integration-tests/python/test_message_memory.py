"""annflight.memory: freed message-sized blocks stay in the process for the next message."""
import subprocess
import sys

# Faults while writing an 8 MiB block (2,048 pages) three times, malloc'd and freed each time:
# fresh pages fault in on every write; a block kept by malloc is written without a fault.
_PROBE = r"""
import ctypes, resource, sys
from annflight.memory import reuse_message_memory
if sys.argv[1] == "reuse":
    assert reuse_message_memory() and reuse_message_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
faults = []
for size in (8 << 20, (8 << 20) + 4096 * 3, 8 << 20):  # messages differ in size
    p = libc.malloc(size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ctypes.memset(p, 1, size)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    libc.free(p)
print(*faults)
"""


def _faults(mode: str) -> list:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         check=True).stdout
    return [int(f) for f in out.split()]


def test_freed_message_blocks_are_reused_not_faulted_in_again():
    first, *later = _faults("reuse")
    assert first >= 1_000  # the first block is new memory
    assert all(f < 100 for f in later), later


def test_without_it_a_larger_message_lands_in_fresh_pages():
    # The probe tells the two apart: glibc's defaults give the second, slightly larger, block
    # fresh pages (it is mmap'd, or the arena grows), so the test above can fail.
    _, second, _ = _faults("default")
    assert second >= 1_000
