# -*- coding: utf-8 -*-
"""Normalization cache (_cache) and bounded parallel work (_parallel), with real images."""

import io
import os
import stat
import threading
import time

import pytest
from PIL import Image

from ansible_collections.photosync.ad.plugins.module_utils import _cache, _errors, _image, _parallel


def jpeg(seed, size=(600, 800)):
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    img.paste((255 - (seed * 37) % 256, 30, 200), (50, 80, 300, 500))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


PROFILE = _image.ImageProfile()


def test_cache_hit_returns_same_photo_and_skips_normalize(tmp_path, monkeypatch):
    cache = _cache.NormalizeCache(str(tmp_path / "c"), PROFILE)
    data = jpeg(1)
    first = cache.normalize(data)
    assert first == _image.normalize(data, PROFILE)
    assert stat.S_IMODE(os.stat(str(tmp_path / "c")).st_mode) == 0o700

    def refuse(*args):
        raise AssertionError("normalize must not run on a cache hit")
    monkeypatch.setattr(_image, "normalize", refuse)
    again = _cache.NormalizeCache(str(tmp_path / "c"), PROFILE).normalize(data)
    assert again == first


def test_cache_key_depends_on_profile_and_pillow(monkeypatch):
    data = jpeg(2)
    key = _cache.cache_key(data, PROFILE)
    assert key != _cache.cache_key(data, _image.ImageProfile(max_dimension=64))
    monkeypatch.setattr(_cache, "PILLOW_VERSION", "0.0-other")
    assert key != _cache.cache_key(data, PROFILE)


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign", "garbage"])
def test_damaged_or_foreign_entry_is_rebuilt_not_used(tmp_path, damage):
    cache = _cache.NormalizeCache(str(tmp_path), PROFILE)
    data, other = jpeg(3), jpeg(4)
    good = cache.normalize(data)
    key = cache.key(data)
    path = os.path.join(str(tmp_path), key + ".psnc")
    blob = open(path, "rb").read()
    if damage == "flip":
        blob = blob[:-100] + bytes([blob[-100] ^ 0xFF]) + blob[-99:]
    elif damage == "truncate":
        blob = blob[:-10]
    elif damage == "foreign":
        cache.normalize(other)  # another photo's (valid) entry copied over this key
        blob = open(os.path.join(str(tmp_path), cache.key(other) + ".psnc"), "rb").read()
    else:
        blob = b"not a cache entry"
    with open(path, "wb") as handle:
        handle.write(blob)
    fresh = _cache.NormalizeCache(str(tmp_path), PROFILE)
    assert fresh.normalize(data) == good
    assert fresh.rejected == 1 and fresh.hits == 0
    assert _cache.NormalizeCache(str(tmp_path), PROFILE).get(key) == good  # rebuilt


def test_prune_keeps_most_recently_used_within_bound(tmp_path):
    cache = _cache.NormalizeCache(str(tmp_path), PROFILE)
    keys = []
    for i in range(6):
        data = jpeg(10 + i)
        cache.normalize(data)
        keys.append(cache.key(data))
        past = time.time() - 1000 + i
        os.utime(os.path.join(str(tmp_path), keys[-1] + ".psnc"), (past, past))
    cache.get(keys[0])  # used now: survives
    size = os.path.getsize(os.path.join(str(tmp_path), keys[1] + ".psnc"))
    cache.max_bytes = size * 3 + size // 2
    assert cache.prune() == 3
    left = set(n[:-5] for n in os.listdir(str(tmp_path)))
    assert left == {keys[0], keys[4], keys[5]}


def test_bounded_map_keeps_order_bounds_window_and_reports_errors():
    in_flight = []
    lock = threading.Lock()
    live = [0]

    def fn(x):
        with lock:
            live[0] += 1
            in_flight.append(live[0])
        time.sleep(0.002)
        with lock:
            live[0] -= 1
        if x == 7:
            raise ValueError("seven")
        return x * x

    consumed = []

    def items():
        for i in range(40):
            consumed.append(i)
            yield i, i

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as ex:
        out = []
        for key, result, error in _parallel.bounded_map(ex.submit, fn, items(), window=3):
            assert len(consumed) - len(out) <= 3  # never more than the window read ahead
            out.append((key, result, type(error).__name__ if error else None))
    assert [k for k, dummy, dummy2 in out] == list(range(40))
    assert out[7] == (7, None, "ValueError")
    assert out[6] == (6, 36, None)
    assert max(in_flight) <= 3


@pytest.mark.parametrize("mode", ["process", "thread", "inline"])
def test_image_pool_matches_serial_and_keeps_domain_errors(tmp_path, mode):
    datas = [jpeg(i) for i in range(12)] + [b"not an image at all"]
    expected = [_image.normalize(d, PROFILE) for d in datas[:-1]]
    cache = _cache.NormalizeCache(str(tmp_path), PROFILE)
    with _parallel.ImagePool(PROFILE, cache=cache, workers=2, mode=mode) as pool:
        results = list(pool.map(enumerate(datas)))
        again = list(pool.map(enumerate(datas)))
    assert [r for dummy, r, dummy2 in results[:-1]] == expected
    key, result, error = results[-1]
    assert key == 12 and result is None
    assert isinstance(error, _errors.InvalidImage) and error.message
    assert [r for dummy, r, dummy2 in again[:-1]] == expected
    assert cache.hits == 12  # the second pass came from the cache


def test_directory_pool_uses_one_connection_per_thread_and_closes_them():
    opened = []

    class FakeDirectory(object):
        def __init__(self):
            self.closed = False
            self.thread = threading.current_thread().name
            opened.append(self)

        def close(self):
            self.closed = True

    def op(directory, arg):
        time.sleep(0.001)
        assert directory.thread == threading.current_thread().name
        return arg + 1

    with _parallel.DirectoryPool(FakeDirectory, connections=3) as pool:
        out = list(pool.map(op, ((i, i) for i in range(30))))
    assert [r for dummy, r, dummy2 in out] == [i + 1 for i in range(30)]
    assert 1 <= len(opened) <= 3
    assert all(d.closed for d in opened)
