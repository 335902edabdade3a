"""DecodedCache: an upload sent again (the Photo view resends it on every control change) is
decoded once; other bytes or other settings are decoded anew; the entries stay within a byte
bound, least recently used first out; and threads sharing the cache all get the same numbers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageDraw

import app.imaging.cache as cache_module
from app.imaging.cache import DecodedCache
from app.imaging.decode import decode_to_array
from tests.helpers.images import encode

LIMIT = 16_000_000  # pixels


def picture(seed: int, size=(40, 30), fmt: str = "PNG") -> bytes:
    """A small colour picture, different for every seed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(base, "RGB")
    ImageDraw.Draw(img).ellipse([5, 5, 25, 20], fill=(255, 200 - seed % 100, 0))
    return encode(img, fmt)


@pytest.fixture
def decodes(monkeypatch) -> list[tuple]:
    """Every real decode the cache asks for: (bytes, max_pixels, max_side, mode)."""
    calls: list[tuple] = []

    def counting(data, max_pixels, max_side, mode):
        calls.append((data, max_pixels, max_side, mode))
        return decode_to_array(data, max_pixels, max_side, mode)

    monkeypatch.setattr(cache_module, "decode_to_array", counting)
    return calls


def test_the_same_bytes_twice_decode_once_and_give_the_same_read_only_array(decodes):
    cache = DecodedCache()
    data = picture(0)
    first = cache.array(data, LIMIT, 256, "gray")
    again = cache.array(bytes(data), LIMIT, 256, "gray")  # equal bytes, another object
    assert again is first
    assert len(decodes) == 1
    np.testing.assert_array_equal(first, decode_to_array(data, LIMIT, 256, "gray"))
    assert first.shape == (30, 40) and first.dtype == np.float32
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0, 0] = 0.5


def test_a_miss_is_read_only_too(decodes):
    """The first answer is the array later requests share: nobody may change it either."""
    array = DecodedCache().array(picture(1), LIMIT, 256, "rgb")
    assert not array.flags.writeable
    assert array.shape == (3, 30, 40)


def test_other_bytes_mode_or_size_decode_again(decodes):
    cache = DecodedCache()
    a, b = picture(1), picture(2)
    gray = cache.array(a, LIMIT, 256, "gray")
    other = cache.array(b, LIMIT, 256, "gray")
    rgb = cache.array(a, LIMIT, 256, "rgb")
    small = cache.array(a, LIMIT, 16, "gray")
    assert len(decodes) == 4
    assert not np.array_equal(gray, other)
    assert rgb.shape == (3, 30, 40) and gray.shape == (30, 40) and small.shape == (12, 16)
    np.testing.assert_array_equal(rgb, decode_to_array(a, LIMIT, 256, "rgb"))
    # and each of them is now a hit
    assert cache.array(a, LIMIT, 256, "gray") is gray
    assert cache.array(b, LIMIT, 256, "gray") is other
    assert cache.array(a, LIMIT, 256, "rgb") is rgb
    assert cache.array(a, LIMIT, 16, "gray") is small
    assert len(decodes) == 4


def test_a_different_jpeg_of_the_same_picture_is_other_bytes(decodes):
    cache = DecodedCache()
    cache.array(picture(3, fmt="PNG"), LIMIT, 256, "gray")
    cache.array(picture(3, fmt="JPEG"), LIMIT, 256, "gray")
    assert len(decodes) == 2


def test_the_byte_bound_evicts_the_least_recently_used_entry(decodes):
    one = 30 * 40 * 4  # bytes of one (30, 40) float32 gray picture
    cache = DecodedCache(max_bytes=2 * one + 100)  # room for two
    a, b, c = picture(10), picture(11), picture(12)
    cache.array(a, LIMIT, 256, "gray")
    cache.array(b, LIMIT, 256, "gray")
    cache.array(c, LIMIT, 256, "gray")  # a, the oldest, goes
    assert len(decodes) == 3
    cache.array(b, LIMIT, 256, "gray")  # hits (and b is now the most recent)
    cache.array(c, LIMIT, 256, "gray")
    assert len(decodes) == 3
    cache.array(a, LIMIT, 256, "gray")  # decoded again; evicts b, the least recently used
    assert len(decodes) == 4
    cache.array(b, LIMIT, 256, "gray")
    assert len(decodes) == 5
    assert [d[0] for d in decodes] == [a, b, c, a, b]


def test_a_recent_use_keeps_an_old_entry(decodes):
    one = 30 * 40 * 4
    cache = DecodedCache(max_bytes=2 * one + 100)
    a, b, c = picture(20), picture(21), picture(22)
    cache.array(a, LIMIT, 256, "gray")
    cache.array(b, LIMIT, 256, "gray")
    cache.array(a, LIMIT, 256, "gray")  # a used again: b is now the oldest
    cache.array(c, LIMIT, 256, "gray")  # evicts b
    cache.array(a, LIMIT, 256, "gray")
    assert [d[0] for d in decodes] == [a, b, c]


def test_an_array_over_the_bound_is_returned_but_not_kept(decodes):
    cache = DecodedCache(max_bytes=30 * 40 * 4 - 1)
    data = picture(30)
    first = cache.array(data, LIMIT, 256, "gray")
    second = cache.array(data, LIMIT, 256, "gray")
    np.testing.assert_array_equal(first, second)
    assert len(decodes) == 2


def test_errors_are_raised_and_not_cached(decodes):
    from app.imaging.errors import ImageInputError

    cache = DecodedCache()
    for _ in range(2):
        with pytest.raises(ImageInputError):
            cache.array(b"not an image at all", LIMIT, 256, "gray")
    assert len(decodes) == 2


def test_eight_threads_get_identical_arrays(decodes):
    """8 threads released at once, each asking for 3 pictures in 2 modes, several times."""
    cache = DecodedCache()
    pictures = [picture(40 + i, size=(200, 150)) for i in range(3)]
    wanted = {
        (i, mode): decode_to_array(p, LIMIT, 128, mode)
        for i, p in enumerate(pictures)
        for mode in ("gray", "rgb")
    }
    start = threading.Barrier(8)

    def worker(t: int) -> list[tuple[tuple[int, str], np.ndarray]]:
        start.wait()
        got = []
        for r in range(6):
            for i in range(3):
                i = (i + t + r) % 3
                mode = ("gray", "rgb")[(t + r) % 2]
                got.append(((i, mode), cache.array(pictures[i], LIMIT, 128, mode)))
        return got

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    for got in results:
        for key, array in got:
            np.testing.assert_array_equal(array, wanted[key])
            assert not array.flags.writeable
    # every key decoded at least once and at most once per thread; afterwards, all are hits
    assert 6 <= len(decodes) <= 6 * 8
    before = len(decodes)
    for (i, mode), array in wanted.items():
        np.testing.assert_array_equal(cache.array(pictures[i], LIMIT, 128, mode), array)
    assert len(decodes) == before
