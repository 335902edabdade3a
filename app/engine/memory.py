"""Keep freed memory in the process instead of handing it back to the kernel.

A training step allocates and frees the same few megabyte-sized arrays hundreds of times a
second. glibc serves such sizes with fresh mmap()s and unmaps them on free, so every step pays
for page faults on memory it just gave back (about a third of a step here). Raising glibc's
mmap and trim thresholds makes malloc reuse that memory instead. Process-wide, so it is called
by entry points (the CLI commands, benchmarks), never on import. The server does not: its
allocations are small, and kept memory would only raise its resident size.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def reuse_freed_memory(threshold_bytes: int = 512 * 2**20) -> bool:
    """Ask glibc to keep up to `threshold_bytes` of freed memory; False where that is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, min(threshold_bytes, 32 * 2**20))
    ok_trim = mallopt(_M_TRIM_THRESHOLD, threshold_bytes)
    return bool(ok_mmap and ok_trim)
