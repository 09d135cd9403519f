# -*- coding: utf-8 -*-
"""Mutated images (the fast, deterministic subset of the fuzz run; the long run is
``benchmarks/fuzz_images.py``, see docs/development.md).

Whatever the bytes, normalize() either returns a photo within the profile or raises one
of the pipeline's typed errors, summarize() never raises, and nothing that plain Pillow
refuses to decode gets through as a photo."""

import io
import struct

import pytest
from PIL import Image

import imagecorpus as corpus
import imagefuzz
from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()
TYPED = (_errors.ImageError, _errors.ConfigurationError)


def test_seed_images_are_valid_and_cover_the_formats():
    seeds = imagefuzz.seeds()
    formats = set()
    for name, data in seeds.items():
        assert imagefuzz.pillow_refuses(data) is None, name
        formats.add(Image.open(io.BytesIO(data)).format)
        _image.normalize(data, PROFILE)
    assert {"JPEG", "PNG", "GIF", "WEBP", "TIFF"} <= formats


def test_cases_are_deterministic():
    first = list(imagefuzz.cases("ci", 50))
    again = list(imagefuzz.cases("ci", 50))
    assert first == again
    assert len({data for _i, _n, _k, data in first}) > 45


def test_mutated_inputs_only_raise_typed_errors():
    outcomes = {"ok": 0, "error": 0}
    for index, name, kind, mutated in imagefuzz.cases("ci", 420):
        where = "case %d (%s, %s)" % (index, name, kind)
        try:
            photo = _image.normalize(mutated, PROFILE)
        except TYPED as exc:
            assert str(exc), where
            outcomes["error"] += 1
        else:
            assert len(photo.data) <= PROFILE.max_bytes, where
            assert max(photo.width, photo.height) <= PROFILE.max_dimension, where
            assert _image.normalize(photo.data, PROFILE).data == photo.data, where
            outcomes["ok"] += 1
        summary = _image.summarize(mutated)
        assert summary["valid"] in (True, False), where
        assert summary["error"] is None if summary["valid"] else summary["error"], where
    # the mutations must exercise both paths, or this test proves nothing
    assert outcomes["error"] > 50 and outcomes["ok"] > 50, outcomes


def test_every_mutant_pillow_refuses_is_refused():
    """Regression (issue 8, item 3): failed before the fix, when every damaged PNG whose zlib
    stream Pillow refuses was accepted as a (black or garbled) photo.  The oracle is plain
    Pillow: every mutant it cannot open and load must be refused by normalize() too."""
    refused_by_pillow = 0
    let_through = []
    for index, name, kind, mutated in imagefuzz.cases("oracle", 600):
        reason = imagefuzz.pillow_refuses(mutated)
        if reason is None:
            continue
        refused_by_pillow += 1
        try:
            _image.normalize(mutated, PROFILE)
        except TYPED:
            continue
        let_through.append("case %d (%s, %s): Pillow says %s" % (index, name, kind, reason))
    assert refused_by_pillow > 100
    assert let_through == []


def test_every_single_byte_flip_in_png_pixel_data_is_refused_when_pillow_refuses_it():
    """Regression (issue 8, item 3): failed before the fix (every one of these was accepted)."""
    data = corpus.encode(corpus.photo_like((24, 16), seed=5), "PNG")
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8:start - 4])[0]
    checked = 0
    for offset in range(start, start + length):
        damaged = bytearray(data)
        damaged[offset] ^= 0x04
        damaged = bytes(damaged)
        if imagefuzz.pillow_refuses(damaged) is None:
            continue
        checked += 1
        with pytest.raises(_errors.InvalidImage):
            _image.normalize(damaged, PROFILE)
        assert _image.summarize(damaged)["valid"] is False
    assert checked > length // 2
