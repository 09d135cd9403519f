# -*- coding: utf-8 -*-
"""Mutated images: whatever the bytes, normalize() either returns a photo within the
profile or raises one of the typed errors, and summarize() never raises."""

import random

import pytest

import imagecorpus as corpus
from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()


def _seeds():
    small = corpus.photo_like((64, 48), seed=3)
    return {
        "jpeg": corpus.jpeg(small, quality=80),
        "jpeg-progressive": corpus.jpeg(small, quality=80, progressive=True),
        "jpeg-exif": corpus.with_exif(corpus.jpeg(small, quality=80), orientation=6),
        "jpeg-cmyk": corpus.cmyk_jpeg(size=(32, 24)),
        "png": corpus.encode(small, "PNG"),
        "png-palette": corpus.palette_png_transparent(),
        "gif": corpus.animated("GIF", size=(32, 24)),
        "webp": corpus.encode(small, "WEBP", quality=80),
        "tiff": corpus.encode(small, "TIFF"),
        "bmp": corpus.encode(small, "BMP"),
        "heic": corpus.heic(small),
    }


def _mutations(data, rnd, count):
    for dummy in range(count):
        kind = rnd.choice(["flip-head", "flip-any", "truncate", "splice", "zero-run"])
        buf = bytearray(data)
        if kind == "flip-head":
            for dummy in range(rnd.randint(1, 4)):
                pos = rnd.randrange(min(len(buf), 160))
                buf[pos] = rnd.randrange(256)
        elif kind == "flip-any":
            for dummy in range(rnd.randint(1, 8)):
                pos = rnd.randrange(len(buf))
                buf[pos] ^= 1 << rnd.randrange(8)
        elif kind == "truncate":
            del buf[rnd.randrange(1, len(buf)):]
        elif kind == "splice":
            pos = rnd.randrange(len(buf))
            buf[pos:pos] = bytearray(rnd.randrange(256) for dummy in range(rnd.randint(1, 32)))
        else:
            pos = rnd.randrange(len(buf))
            buf[pos:pos + rnd.randint(4, 64)] = b"\0" * 16
        yield kind, bytes(buf)


@pytest.mark.parametrize("name", sorted(_seeds()))
def test_mutated_inputs_only_raise_typed_errors(name):
    rnd = random.Random("photosync-%s" % name)
    data = _seeds()[name]
    outcomes = {"ok": 0, "error": 0}
    for kind, mutated in _mutations(data, rnd, 80):
        try:
            photo = _image.normalize(mutated, PROFILE)
        except (_errors.ImageError, _errors.ConfigurationError) as exc:
            assert str(exc), kind
            outcomes["error"] += 1
        else:
            assert len(photo.data) <= PROFILE.max_bytes
            assert max(photo.width, photo.height) <= PROFILE.max_dimension
            assert _image.normalize(photo.data, PROFILE).data == photo.data
            outcomes["ok"] += 1
        summary = _image.summarize(mutated)
        assert summary["valid"] in (True, False)
        assert summary["error"] is None if summary["valid"] else summary["error"]
    # the mutations must exercise both paths, or this test proves nothing
    assert outcomes["error"] > 0
