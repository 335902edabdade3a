"""Decoded pictures kept for the next request about the same upload.

The Photo view sends the same file again for every control change (stride, pad, ReLU, ...);
decoding and shrinking it each time was a tenth of the answer's time. The cache is keyed by the
bytes' SHA-256 and the decode settings, bounded in bytes, and safe to share between threads:
entries are read-only arrays.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from .decode import decode_to_array


class DecodedCache:
    def __init__(self, max_bytes: int = 64 * 2**20):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def array(self, data: bytes, max_pixels: int, max_side: int, mode: str) -> np.ndarray:
        """decode_to_array(data, ...), from the cache when these bytes were seen before."""
        key = (hashlib.sha256(data).digest(), max_pixels, max_side, mode)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        array = decode_to_array(data, max_pixels, max_side, mode)
        array.flags.writeable = False  # shared between requests: nobody may change it
        with self._lock:
            if key not in self._entries and array.nbytes <= self.max_bytes:
                self._entries[key] = array
                self._bytes += array.nbytes
                while self._bytes > self.max_bytes:
                    _, old = self._entries.popitem(last=False)
                    self._bytes -= old.nbytes
        return array
