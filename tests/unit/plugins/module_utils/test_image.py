# -*- coding: utf-8 -*-
"""The image pipeline over a corpus the tests generate themselves (tests/support/imagecorpus.py)."""

import hashlib
import io
import os
import struct
import subprocess
import sys

import pytest
from PIL import Image, ImageFile

import imagecorpus as corpus
from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils import _image

PROFILE = _image.ImageProfile()

# Colour tolerance (per channel, 0-255) for flat colours after one JPEG round at
# quality 90 with 4:4:4 chroma: measured errors are 0-2, so 12 leaves room for a
# different libjpeg without letting a wrong colour through.
TOL = 12


@pytest.fixture(scope="module")
def accepted():
    return corpus.accepted_inputs()


@pytest.fixture(scope="module")
def bad():
    return corpus.bad_inputs()


def decode(data):
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def near(rgb, expected, tol=TOL):
    return all(abs(a - b) <= tol for a, b in zip(rgb, expected))


def assert_clean_baseline_jpeg(data):
    markers = corpus.jpeg_header_markers(data)
    kinds = [m for m, _payload in markers]
    assert 0xC0 in kinds, "not a baseline (SOF0) JPEG: %r" % [hex(k) for k in kinds]
    assert not set(kinds) & {0xC1, 0xC2, 0xC3, 0xC9, 0xCA}
    assert 0xFE not in kinds, "comment left in output"
    for marker, payload in markers:
        if 0xE1 <= marker <= 0xEF:
            assert marker == 0xEE and payload.startswith(b"Adobe"), "metadata segment APP%d left" % (marker - 0xE0)


# ----------------------------------------------------------------------------
# every accepted kind: budget, box, clean output, determinism, idempotence


def _accepted_names():
    # names are cheap to list without generating the heavy images twice
    return [
        "jpeg-baseline", "jpeg-progressive", "jpeg-grayscale", "jpeg-cmyk-adobe", "jpeg-cmyk-plain",
        "jpeg-cmyk-icc", "jpeg-ycck", "jpeg-exif-rotated", "jpeg-large-12mp", "png-rgb", "png-rgba",
        "png-palette-transparent", "png-colour-key", "png-16bit-gray", "png-16bit-rgb", "png-16bit-rgba", "png-gray-alpha",
        "png-1bit", "gif", "gif-animated", "gif-transparent", "bmp", "tiff", "tiff-multipage", "tiff-cmyk",
        "webp-lossy", "webp-lossless", "webp-animated", "heic", "avif",
    ]


def test_corpus_lists_every_kind(accepted):
    assert sorted(accepted) == sorted(_accepted_names())


@pytest.mark.parametrize("name", _accepted_names())
def test_accepted_input_becomes_budgeted_baseline_jpeg(accepted, name):
    data = accepted[name]
    photo = _image.normalize(data, PROFILE)
    assert photo.format == "JPEG"
    assert len(photo.data) <= PROFILE.max_bytes
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    img = decode(photo.data)
    assert img.format == "JPEG" and img.mode in ("RGB", "L")
    assert img.size == (photo.width, photo.height)
    assert max(img.size) <= PROFILE.max_dimension
    assert_clean_baseline_jpeg(photo.data)
    assert "exif" not in img.info and "icc_profile" not in img.info
    # deterministic: the same input gives the same bytes
    assert _image.normalize(data, PROFILE).data == photo.data
    # idempotent: the output fed back in comes out byte for byte
    assert _image.normalize(photo.data, PROFILE).data == photo.data


def test_large_photo_keeps_aspect_and_fills_the_box(accepted):
    photo = _image.normalize(accepted["jpeg-large-12mp"], PROFILE)
    assert (photo.width, photo.height) == (96, 72)


def test_first_frame_and_first_page_are_used(accepted):
    for name in ("gif-animated", "webp-animated", "tiff-multipage"):
        img = decode(_image.normalize(accepted[name], PROFILE).data).convert("RGB")
        assert near(img.getpixel((img.width // 2, img.height // 2)), corpus.RED), name


def test_sixteen_bit_inputs_are_scaled_not_clipped(accepted):
    grey = decode(_image.normalize(accepted["png-16bit-gray"], PROFILE).data)
    assert grey.mode == "L"
    assert abs(grey.getpixel((10, 10)) - 0x80) <= 2  # 0x8080 / 257 = 128, clipping would give 255
    rgb = decode(_image.normalize(accepted["png-16bit-rgb"], PROFILE).data)
    assert near(rgb.getpixel((10, 10)), corpus.RED)


def test_grayscale_stays_grayscale(accepted):
    assert decode(_image.normalize(accepted["jpeg-grayscale"], PROFILE).data).mode == "L"
    assert decode(_image.normalize(accepted["png-1bit"], PROFILE).data).mode == "L"


# ----------------------------------------------------------------------------
# orientation: check pixels, not metadata


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_jpeg(orientation):
    data = corpus.oriented(orientation)
    info = _image.describe(data)
    assert info.orientation == orientation
    photo = _image.normalize(data, PROFILE)
    img = decode(photo.data)
    assert img.size == (96, 64)  # upright landscape 240x160 scaled into 96x96
    assert corpus.quadrant_names(img) == corpus.UPRIGHT_NAMES


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "HEIF"])
@pytest.mark.parametrize("orientation", [3, 6, 8, 5])
def test_exif_orientation_applied_other_formats(fmt, orientation):
    if fmt == "HEIF":
        corpus.heic(Image.new("RGB", (8, 8)))  # registers pillow-heif's encoder for the corpus
    img = decode(_image.normalize(corpus.oriented(orientation, fmt=fmt), PROFILE).data)
    assert img.size == (96, 64)
    assert corpus.quadrant_names(img) == corpus.UPRIGHT_NAMES


def test_orientation_corpus_really_needs_rotating():
    # guards the test above: without applying the tag the picture is wrong
    stored = decode(corpus.oriented(6))
    assert stored.size == (160, 240)
    assert corpus.quadrant_names(stored.rotate(-90, expand=True)) == corpus.UPRIGHT_NAMES
    assert corpus.quadrant_names(stored.resize((240, 160))) != corpus.UPRIGHT_NAMES


# ----------------------------------------------------------------------------
# transparency


@pytest.mark.parametrize("name", ["png-rgba", "png-palette-transparent", "gif-transparent", "png-16bit-rgba",
                                  "png-colour-key"])
@pytest.mark.parametrize("background", ["#FFFFFF", "#00FF00", "rgb(0, 0, 255)"])
def test_transparency_becomes_background(accepted, name, background):
    profile = _image.ImageProfile(background=background)
    img = decode(_image.normalize(accepted[name], profile).data).convert("RGB")
    expected = _image.ImageProfile(background=background).background_rgb
    assert near(img.getpixel((img.width - 3, img.height // 2)), expected), "transparent side"
    assert near(img.getpixel((2, img.height // 2)), corpus.RED), "opaque side"


def test_grey_alpha_on_coloured_background_becomes_rgb(accepted):
    img = decode(_image.normalize(accepted["png-gray-alpha"], _image.ImageProfile(background="#FF0000")).data)
    assert img.mode == "RGB"
    assert near(img.getpixel((img.width - 3, 10)), corpus.RED)
    assert near(img.getpixel((2, 10)), (60, 60, 60))


# ----------------------------------------------------------------------------
# colour: CMYK flavours and ICC profiles


@pytest.mark.parametrize("maker", ["adobe", "plain", "icc", "ycck"])
def test_pure_red_cmyk_stays_red(maker):
    red = (0, 255, 255, 0)
    data = {
        "adobe": lambda: corpus.cmyk_jpeg(red),
        "plain": lambda: corpus.cmyk_jpeg(red, adobe=False),
        "icc": lambda: corpus.cmyk_jpeg(red, icc=corpus.cmyk_profile()),
        "ycck": lambda: corpus.ycck_jpeg(red),
    }[maker]()
    img = decode(_image.normalize(data, PROFILE).data)
    assert img.mode == "RGB"
    assert near(img.getpixel((10, 10)), corpus.RED), img.getpixel((10, 10))


def test_cmyk_icc_profile_is_used_not_the_naive_formula():
    blue_ink = (255, 255, 0, 0)
    naive = decode(_image.normalize(corpus.cmyk_jpeg(blue_ink), PROFILE).data).getpixel((10, 10))
    managed = decode(_image.normalize(corpus.cmyk_jpeg(blue_ink, icc=corpus.cmyk_profile()), PROFILE).data)
    assert near(naive, (0, 0, 255))
    assert near(managed.getpixel((10, 10)), corpus.CMYK_PROFILE_CORNERS[(1, 1, 0, 0)])


def test_rgb_icc_profile_is_converted_to_srgb():
    data = corpus.jpeg(Image.new("RGB", (64, 64), corpus.RED), icc_profile=corpus.swapped_primaries_rgb_profile())
    info = _image.describe(data, PROFILE)
    assert info.icc_profile and info.meets_profile is False
    assert any("ICC" in r for r in info.reasons)
    img = decode(_image.normalize(data, PROFILE).data)
    r, g, b = img.getpixel((10, 10))
    assert g > 200 and r < 60 and b < 60, (r, g, b)  # the profile says this red is green


def test_srgb_icc_is_dropped_without_changing_pixels():
    clean = corpus.jpeg(corpus.photo_like((90, 60)), quality=85)
    tagged = corpus.with_icc(clean, corpus.srgb_profile_bytes())
    assert _image.normalize(tagged, PROFILE).data == clean


# ----------------------------------------------------------------------------
# "already meets the profile" and metadata


def compliant_jpeg():
    """What another tool might have written: 96x72, quality 75, 4:2:0 chroma (not our settings)."""
    return corpus.jpeg(corpus.photo_like((96, 72), seed=5), quality=75, subsampling=2)


def test_compliant_photo_is_kept_byte_for_byte():
    data = compliant_jpeg()
    info = _image.describe(data, PROFILE)
    assert info.meets_profile is True and info.reasons == []
    assert _image.normalize(data, PROFILE).data == data


@pytest.mark.parametrize("decorate", ["comment", "exif", "exif-orientation-1", "xmp", "all"])
def test_metadata_only_difference_gives_the_clean_bytes(decorate):
    clean = compliant_jpeg()
    decorated = {
        "comment": corpus.with_comment,
        "exif": corpus.with_exif,
        "exif-orientation-1": lambda d: corpus.with_exif(d, orientation=1),
        "xmp": corpus.with_xmp,
        "all": lambda d: corpus.with_xmp(corpus.with_exif(corpus.with_comment(d + b"trailing junk"))),
    }[decorate](clean)
    assert decorated != clean
    info = _image.describe(decorated, PROFILE)
    assert info.meets_profile is True and info.metadata
    assert _image.normalize(decorated, PROFILE).data == clean


@pytest.mark.parametrize("decorate", [corpus.with_comment, corpus.with_exif, corpus.with_xmp])
def test_metadata_only_difference_on_a_source_that_needs_work(decorate):
    source = corpus.jpeg(corpus.photo_like((600, 800)))
    assert _image.normalize(decorate(source), PROFILE).data == _image.normalize(source, PROFILE).data


def test_normalized_photo_with_added_metadata_is_not_changed():
    # the downstream module's promise: photo written earlier + a comment/EXIF -> in sync
    written = _image.normalize(corpus.jpeg(corpus.photo_like((600, 800))), PROFILE).data
    assert _image.normalize(corpus.with_comment(written), PROFILE).data == written
    assert _image.normalize(corpus.with_exif(written), PROFILE).data == written


@pytest.mark.parametrize("case,reason", [
    ("progressive", "progressive"),
    ("rotated", "orientation 6"),
    ("too-big", "larger than 96x96"),
    ("png", "not JPEG"),
    ("cmyk", "CMYK"),
    ("over-budget", "over max_bytes"),
])
def test_not_meeting_the_profile_names_the_reason(case, reason):
    small = corpus.photo_like((96, 72))
    data = {
        "progressive": lambda: corpus.jpeg(small, progressive=True),
        "rotated": lambda: corpus.with_exif(corpus.jpeg(small), orientation=6),
        "too-big": lambda: corpus.jpeg(corpus.photo_like((200, 100))),
        "png": lambda: corpus.encode(small, "PNG"),
        "cmyk": lambda: corpus.cmyk_jpeg(size=(40, 40)),
        "over-budget": lambda: corpus.jpeg(small, quality=95),
    }[case]()
    profile = _image.ImageProfile(max_bytes=3000) if case == "over-budget" else PROFILE
    info = _image.describe(data, profile)
    assert info.meets_profile is False
    assert any(reason in r for r in info.reasons), info.reasons
    photo = _image.normalize(data, profile)
    assert photo.data != data
    assert _image.describe(photo.data, profile).meets_profile is True


def test_fit_cover_and_pad_need_a_square():
    data = compliant_jpeg()
    for fit in ("cover", "pad"):
        profile = _image.ImageProfile(fit=fit)
        assert _image.describe(data, profile).meets_profile is False
        photo = _image.normalize(data, profile)
        assert (photo.width, photo.height) == ((72, 72) if fit == "cover" else (96, 96))
        assert _image.normalize(photo.data, profile).data == photo.data


# ----------------------------------------------------------------------------
# geometry and budget


def test_fit_modes_on_a_portrait():
    upright = corpus.pattern((600, 800))
    data = corpus.encode(upright, "PNG")
    contain = decode(_image.normalize(data, _image.ImageProfile(fit="contain")).data)
    assert contain.size == (72, 96)
    assert corpus.quadrant_names(contain) == corpus.UPRIGHT_NAMES
    cover = decode(_image.normalize(data, _image.ImageProfile(fit="cover")).data)
    assert cover.size == (96, 96)
    # 600x800 cropped to the middle 600x600: quadrant boundary moves but the corners keep their colours
    assert corpus.classify(cover.getpixel((5, 5))) == "red"
    assert corpus.classify(cover.getpixel((90, 90))) == "yellow"
    pad = decode(_image.normalize(data, _image.ImageProfile(fit="pad", background="#000000")).data)
    assert pad.size == (96, 96)
    assert near(pad.getpixel((2, 48)), (0, 0, 0)) and near(pad.getpixel((93, 48)), (0, 0, 0))
    assert near(pad.getpixel((20, 20)), corpus.RED)


def test_never_enlarges():
    data = corpus.encode(corpus.photo_like((50, 40)), "PNG")
    assert (_image.normalize(data, PROFILE).width, _image.normalize(data, PROFILE).height) == (50, 40)


@pytest.mark.parametrize("max_bytes", [6000, 2500, 1200])
def test_budget_is_always_met(max_bytes):
    noisy = corpus.noise((400, 400), seed=9, tile=400).convert("RGB")
    profile = _image.ImageProfile(max_bytes=max_bytes, max_dimension=160)
    photo = _image.normalize(corpus.encode(noisy, "PNG"), profile)
    assert len(photo.data) <= max_bytes
    assert max(photo.width, photo.height) <= 160
    assert _image.normalize(photo.data, profile).data == photo.data


def test_budget_scales_down_when_quality_alone_is_not_enough():
    noisy = corpus.noise((400, 400), seed=9, tile=400).convert("RGB")
    profile = _image.ImageProfile(max_bytes=1200, max_dimension=160, min_quality=80)
    photo = _image.normalize(corpus.encode(noisy, "PNG"), profile)
    assert photo.width < 160 and len(photo.data) <= 1200


def test_impossible_budget_is_a_configuration_error():
    with pytest.raises(_errors.ConfigurationError, match="max_bytes 60 is too small"):
        _image.normalize(compliant_jpeg(), _image.ImageProfile(max_bytes=60, fit="pad"))


def test_quality_is_the_highest_that_fits():
    source = corpus.encode(corpus.photo_like((600, 800)), "PNG")
    roomy = _image.normalize(source, _image.ImageProfile(max_bytes=102400))
    tight = _image.normalize(source, _image.ImageProfile(max_bytes=len(roomy.data) - 500))
    assert len(tight.data) <= len(roomy.data) - 500
    assert (tight.width, tight.height) == (roomy.width, roomy.height)
    looser = _image.normalize(source, _image.ImageProfile(max_bytes=len(tight.data) + 300))
    assert len(tight.data) <= len(looser.data) <= len(tight.data) + 300


# ----------------------------------------------------------------------------
# bad inputs: typed errors naming what was found


BAD_TYPES = {
    "png-bomb": _errors.ImageTooLarge, "png-header-bomb": _errors.ImageTooLarge, "gif-bomb": _errors.ImageTooLarge,
    "jpeg-header-bomb": _errors.ImageTooLarge, "psd": _errors.UnsupportedFormat,
}


def _bad_names():
    return ["empty", "html", "html-lowercase-bom", "svg", "svg-bare", "pdf", "text", "json", "base64-jpeg", "eps",
            "zip", "random-binary", "jpeg-truncated", "jpeg-header-only", "png-truncated", "gif-truncated",
            "png-bomb", "png-header-bomb", "gif-bomb", "jpeg-header-bomb", "psd", "video-mp4"]


def test_bad_corpus_lists_every_kind(bad):
    assert sorted(bad) == sorted(_bad_names())


@pytest.mark.parametrize("name", _bad_names())
def test_bad_input_raises_the_typed_error(bad, name):
    data, message = bad[name]
    expected = BAD_TYPES.get(name, _errors.InvalidImage)
    with pytest.raises(expected) as caught:
        _image.normalize(data, PROFILE)
    assert message in str(caught.value)
    with pytest.raises(expected):
        _image.describe(data, PROFILE)
    summary = _image.summarize(data)
    assert summary["valid"] is False and message in summary["error"]
    assert summary["format"] == "unknown" and summary["width"] is None and summary["bytes"] == len(data)


def test_pixel_limit_is_configurable_and_named():
    data = corpus.jpeg(corpus.photo_like((300, 400)))
    with pytest.raises(_errors.ImageTooLarge) as caught:
        _image.normalize(data, _image.ImageProfile(max_pixels=100000))
    assert "120000 pixels" in str(caught.value) and "100000" in str(caught.value)
    assert _image.normalize(data, _image.ImageProfile(max_pixels=120000)).width == 72


def test_pillow_bomb_guard_is_restored_after_a_higher_limit():
    before = Image.MAX_IMAGE_PIXELS
    data = corpus.png_header_bomb(15000, 15000)  # 225 MP: over Pillow's own 2x error threshold
    with pytest.raises(_errors.InvalidImage) as caught:
        _image.normalize(data, _image.ImageProfile(max_pixels=300000000))
    assert not isinstance(caught.value, _errors.ImageTooLarge)  # it got past the limit, then failed to decode
    assert Image.MAX_IMAGE_PIXELS == before


def test_truncated_refused_even_if_pillow_was_made_lenient(monkeypatch, bad):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(_errors.InvalidImage, match="truncated JPEG"):
        _image.normalize(bad["jpeg-truncated"][0], PROFILE)


def test_heic_without_pillow_heif_names_the_package(monkeypatch, accepted):
    monkeypatch.setattr(_image, "HAS_PILLOW_HEIF", False)
    with pytest.raises(_errors.UnsupportedFormat) as caught:
        _image.normalize(accepted["heic"], PROFILE)
    assert "HEIC needs the pillow-heif package (pip install pillow-heif)" in str(caught.value)
    assert _image.summarize(accepted["heic"])["valid"] is False


def test_heic_with_pillow_heif_decodes(accepted):
    assert _image.HAS_PILLOW_HEIF is True
    info = _image.describe(accepted["heic"])
    assert info.format == "HEIF" and (info.width, info.height) == (300, 400)


def test_non_bytes_are_typed_errors():
    with pytest.raises(_errors.InvalidImage, match="text string"):
        _image.normalize(u"/9j/4AAQ", PROFILE)
    with pytest.raises(_errors.InvalidImage, match="no data"):
        _image.normalize(None, PROFILE)
    with pytest.raises(_errors.ConfigurationError):
        _image.normalize(compliant_jpeg(), {"max_dimension": 96})


# ----------------------------------------------------------------------------
# describe, summarize, Photo


def test_describe_without_profile(accepted):
    info = _image.describe(accepted["jpeg-exif-rotated"])
    assert info.meets_profile is None and info.reasons == []
    assert (info.format, info.mode, info.width, info.height) == ("JPEG", "RGB", 160, 240)
    assert (info.display_width, info.display_height) == (240, 160)
    assert "exif" in info.metadata
    as_dict = info.as_dict()
    assert as_dict["orientation"] == 6 and as_dict["bytes"] == len(accepted["jpeg-exif-rotated"])
    assert _image.describe(accepted["jpeg-progressive"]).progressive is True
    assert _image.describe(accepted["gif-animated"]).frames == 3
    assert _image.describe(accepted["png-rgba"]).has_alpha is True


def test_summarize_valid_and_invalid(accepted):
    good = _image.summarize(accepted["jpeg-exif-rotated"])
    assert good == dict(sha256=hashlib.sha256(accepted["jpeg-exif-rotated"]).hexdigest(),
                        bytes=len(accepted["jpeg-exif-rotated"]), width=240, height=160, format="JPEG",
                        valid=True, error=None)
    for junk in (None, b"", u"text", 42, b"\xff\xd8\xff", bytearray(b"\x89PNG\r\n\x1a\n")):
        summary = _image.summarize(junk)
        assert summary["valid"] is False and summary["error"]
        assert summary["format"] == "unknown" and summary["width"] is None and summary["height"] is None


def test_photo_summary_never_holds_the_bytes():
    photo = _image.normalize(compliant_jpeg(), PROFILE)
    summary = photo.summary()
    assert summary == dict(sha256=photo.sha256, bytes=len(photo.data), width=96, height=72, format="JPEG")
    assert photo.data not in [v for v in summary.values() if isinstance(v, bytes)]


def test_deterministic_across_processes(accepted, tmp_path):
    # a fresh interpreter (cold caches, plugins registered in another order) gives the same bytes
    names = ["jpeg-large-12mp", "png-rgba", "jpeg-cmyk-icc", "heic", "jpeg-exif-rotated"]
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(accepted[name])
        paths.append(str(path))
    here = [_image.normalize(accepted[n], PROFILE).sha256 for n in names]
    script = (
        "import sys\n"
        "from ansible_collections.photosync.ad.plugins.module_utils import _image\n"
        "print(' '.join(_image.normalize(open(p, 'rb').read(), _image.ImageProfile()).sha256"
        " for p in sys.argv[1:]))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ["PHOTOSYNC_COLLECTIONS_ROOT"]
    out = subprocess.run([sys.executable, "-c", script] + paths, env=env, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    assert out == here


def test_png_text_chunks_do_not_change_the_output():
    from PIL import PngImagePlugin
    picture = corpus.photo_like((300, 200), seed=21)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "exported by corpus")
    info.add_text("Software", "corpus 1.0")
    plain = corpus.encode(picture, "PNG")
    tagged = corpus.encode(picture, "PNG", pnginfo=info)
    assert plain != tagged
    assert _image.normalize(tagged, PROFILE).data == _image.normalize(plain, PROFILE).data


# ----------------------------------------------------------------------------
# damaged pixel data (issue 8, item 3)


def _png_with_flipped_idat_byte():
    """A photo-like RGB PNG (header intact) with one byte inside the IDAT zlib stream flipped."""
    data = corpus.encode(corpus.photo_like((64, 48), seed=3), "PNG")
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8:start - 4], "big")
    damaged = bytearray(data)
    damaged[start + length // 2] ^= 0x10
    return bytes(damaged)


def test_png_with_damaged_idat_is_invalid_not_a_black_photo():
    """Regression (issue 8, item 3): failed before the fix.  The EXIF orientation lookup made
    Pillow decode the PNG, the zlib error was swallowed, and the later load returned the
    half-filled buffer, so normalize() returned a garbled photo and describe()/summarize()
    called the file valid."""
    damaged = _png_with_flipped_idat_byte()
    with pytest.raises(Exception) as plain:  # the oracle: plain Pillow refuses it
        Image.open(io.BytesIO(damaged)).load()
    assert not isinstance(plain.value, _errors.PhotoSyncError)
    with pytest.raises(_errors.InvalidImage, match="corrupt PNG data"):
        _image.normalize(damaged, PROFILE)
    with pytest.raises(_errors.InvalidImage, match="corrupt PNG data"):
        _image.describe(damaged)
    with pytest.raises(_errors.InvalidImage, match="corrupt PNG data"):
        _image.describe(damaged, PROFILE)
    summary = _image.summarize(damaged)
    assert summary["valid"] is False and "corrupt PNG data" in summary["error"]
    assert summary["width"] is None and summary["format"] == "unknown"


# ----------------------------------------------------------------------------
# colour-key transparency in greyscale PNGs (issue 8, item 4)

GREY_KEYS = [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3), (4, 0), (4, 5), (4, 15), (8, 0), (8, 77), (8, 255),
             (16, 0), (16, 0x1234), (16, 0xFFFF)]


@pytest.mark.parametrize("depth,key", GREY_KEYS)
@pytest.mark.parametrize("background", ["#FFFFFF", "#00FF00", "rgb(200, 30, 90)"])
def test_grey_colour_key_becomes_background(depth, key, background):
    """Regression (issue 8, item 4): failed before the fix for 16-bit keys (the transparent half
    came out black or in the key's grey) and for non-zero 2- and 4-bit keys (the key's grey:
    Pillow reports the raw sample while it scales the pixels)."""
    data = corpus.grey_key_png(depth, key)
    opaque = (1 << depth) - 1 if key != (1 << depth) - 1 else 0
    profile = _image.ImageProfile(background=background)
    img = decode(_image.normalize(data, profile).data).convert("RGB")
    middle = img.height // 2
    assert near(img.getpixel((img.width - 3, middle)), profile.background_rgb, tol=6), "transparent side"
    grey = corpus.grey_sample_to_8bit(opaque, depth)
    assert near(img.getpixel((2, middle)), (grey, grey, grey), tol=6), "opaque side"


def test_sixteen_bit_grey_key_matches_all_sixteen_bits():
    """Regression (issue 8, item 4): failed before the fix (the key was ignored for 16-bit grey).
    A sample one step away from the key is opaque: 0x1235 stays grey while 0x1234 is background."""
    data = corpus.grey_key_png(16, 0x1234, opaque=0x1235)
    img = decode(_image.normalize(data, _image.ImageProfile(background="#00FF00")).data).convert("RGB")
    assert near(img.getpixel((img.width - 3, 10)), (0, 255, 0), tol=6)
    assert near(img.getpixel((2, 10)), (18, 18, 18), tol=6)


def test_sixteen_bit_rgb_colour_key_becomes_background():
    """Regression: failed before the fix (Pillow keeps a 16-bit key while it decodes 8-bit pixels,
    so no pixel matched and the transparent half kept the key colour)."""
    half = 20
    row = struct.pack(">HHH", 0xFFFF, 0, 0) * half + struct.pack(">HHH", 0x1010, 0x2020, 0x3030) * half
    data = corpus.png_raw(2 * half, 16, 16, 2, [row] * 16, trns=struct.pack(">HHH", 0x1010, 0x2020, 0x3030))
    img = decode(_image.normalize(data, _image.ImageProfile(background="#0000FF")).data).convert("RGB")
    assert near(img.getpixel((img.width - 3, 8)), (0, 0, 255))
    assert near(img.getpixel((2, 8)), corpus.RED)


def test_png_colour_key_is_read_from_the_file():
    assert _image.png_colour_key(corpus.grey_key_png(4, 5)) == (4, 0, (5,))
    assert _image.png_colour_key(corpus.grey_key_png(16, 0xABCD)) == (16, 0, (0xABCD,))
    assert _image.png_colour_key(corpus.colour_key_png()) == (8, 2, (0, 0, 0))
    assert _image.png_colour_key(corpus.encode(corpus.pattern(), "PNG")) is None
    assert _image.png_colour_key(corpus.palette_png_transparent()) is None
    assert _image.png_colour_key(b"\x89PNG\r\n\x1a\n\x00\x00") is None
