# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image pipeline: any sane input to a small, correct, deterministic thumbnail.

Plain Python on Pillow, no Ansible inside.  The public names are:

``image_argument_spec()``
    the option family (paired with the doc fragment ``photosync.ad.image``,
    ``plugins/doc_fragments/image.py``).
``ImageProfile``
    the validated options; ``ImageProfile.from_params(module.params)``.
``normalize(data, profile) -> Photo``
    bytes in, a baseline JPEG within the profile out.  Deterministic for a given
    Pillow (and libjpeg) version, idempotent, and an input that already meets the
    profile is kept (only its metadata segments are dropped, losslessly).
``describe(data, profile=None) -> ImageInfo``
    what the bytes are and, given a profile, whether they already meet it and why not.
``summarize(data) -> dict``
    a never-raising one-line report of bytes read from the directory.

Everything that goes wrong is raised as one of ``_errors.ImageError`` subclasses
(``InvalidImage``, ``UnsupportedFormat``, ``ImageTooLarge``) or, for impossible
options, ``_errors.ConfigurationError``.  No other exception escapes ``normalize``
and ``describe``; ``summarize`` never raises.  See docs/images.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib.util
import io
import math
import re
import struct
import threading
import traceback
import warnings
from collections import namedtuple

from ansible_collections.photosync.ad.plugins.module_utils import _errors

try:
    from PIL import Image, ImageChops, ImageColor, ImageFile
    HAS_PIL = True
    PIL_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    Image = ImageChops = ImageColor = ImageFile = None
    HAS_PIL = False
    PIL_IMPORT_ERROR = traceback.format_exc()

# Pillow's colour management (LittleCMS) loads with the first photo that has an ICC profile:
# most photos have none, and every thumbnail_photo task would pay for the import.
ImageCms = None


def _cms():
    """PIL.ImageCms, or None when this Pillow was built without LittleCMS (then colours are converted
    without the embedded profile, as for a photo that has none)."""
    global ImageCms  # pylint: disable=global-statement
    if ImageCms is None:
        try:
            from PIL import ImageCms as image_cms
        except ImportError:
            return None
        ImageCms = image_cms
    return ImageCms


# pillow_heif is imported on the first HEIC photo, not here: its import costs about 50 ms, paid by every
# thumbnail_photo task otherwise (see benchmarks/bench_task.py).
HAS_PILLOW_HEIF = importlib.util.find_spec("pillow_heif") is not None


FIT_CHOICES = ("contain", "cover", "pad")

# Bounds for the options.  thumbnailPhoto's rangeUpper is 102400 bytes.
THUMBNAIL_PHOTO_MAX_BYTES = 102400
MAX_DIMENSION_LIMIT = 4096
QUALITY_LIMITS = (1, 95)

# Pillow format names we decode.  Everything else (EPS via Ghostscript, PSD, ICO, ...)
# is refused before any decoder runs: fewer decoders, smaller attack surface.
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "HEIF", "AVIF")

# Output encoder settings; fixed so that output bytes only depend on the pixels,
# the quality chosen and the Pillow/libjpeg version.
_RGB_SUBSAMPLING = 0  # 4:4:4: at 96 px, 4:2:0 visibly smears coloured edges
# JPEG inputs are DCT-scaled (Image.draft) to at least this multiple of the target
# size, then resized with LANCZOS; see docs/images.md and benchmarks/bench_image.py.
_DRAFT_OVERSAMPLE = 2
# Non-JPEG inputs are box-reduced by integers down to this multiple before LANCZOS.
_REDUCING_GAP = 3.0


def image_argument_spec():
    """Argument spec of the image options (flat top-level module options).

    Paired one-to-one with the doc fragment ``photosync.ad.image``
    (plugins/doc_fragments/image.py); change both together.
    """
    return dict(
        max_dimension=dict(type="int", default=96),
        max_bytes=dict(type="int", default=10240),
        fit=dict(type="str", choices=list(FIT_CHOICES), default="contain"),
        background=dict(type="str", default="#FFFFFF"),
        min_quality=dict(type="int", default=40),
        max_quality=dict(type="int", default=90),
        max_pixels=dict(type="int", default=64000000),
    )


# ----------------------------------------------------------------------------
# profile


def _parse_colour(value):
    """Return an (r, g, b) tuple for any colour Pillow's ImageColor accepts."""
    if not isinstance(value, str) or not value.strip():
        raise _errors.ConfigurationError("background must be a colour such as '#FFFFFF' or 'white', got %r" % (value,))
    if HAS_PIL:
        try:
            rgb = ImageColor.getrgb(value.strip())
        except ValueError:
            raise _errors.ConfigurationError(
                "background %r is not a colour Pillow understands (use '#RRGGBB', 'rgb(r, g, b)' or a name like 'white')" % (value,))
        return tuple(rgb[:3])
    match = re.match(r"^#([0-9a-fA-F]{6})$", value.strip())
    if not match:
        raise _errors.ConfigurationError("background %r: without Pillow only '#RRGGBB' is understood" % (value,))
    hexa = match.group(1)
    return tuple(int(hexa[i:i + 2], 16) for i in (0, 2, 4))


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _errors.ConfigurationError("%s must be an integer, got %r" % (name, value))
    if value < low or value > high:
        raise _errors.ConfigurationError("%s must be between %d and %d, got %d" % (name, low, high, value))
    return value


class ImageProfile(object):
    """What a normalized photo must look like.  Validates on construction."""

    _FIELDS = ("max_dimension", "max_bytes", "fit", "background", "min_quality", "max_quality", "max_pixels")

    def __init__(self, max_dimension=96, max_bytes=10240, fit="contain", background="#FFFFFF",
                 min_quality=40, max_quality=90, max_pixels=64000000):
        self.max_dimension = _check_int("max_dimension", max_dimension, 1, MAX_DIMENSION_LIMIT)
        self.max_bytes = _check_int("max_bytes", max_bytes, 1, THUMBNAIL_PHOTO_MAX_BYTES)
        if fit not in FIT_CHOICES:
            raise _errors.ConfigurationError("fit must be one of %s, got %r" % (", ".join(FIT_CHOICES), fit))
        self.fit = fit
        self.background = background
        self.background_rgb = _parse_colour(background)
        self.min_quality = _check_int("min_quality", min_quality, QUALITY_LIMITS[0], QUALITY_LIMITS[1])
        self.max_quality = _check_int("max_quality", max_quality, QUALITY_LIMITS[0], QUALITY_LIMITS[1])
        if self.min_quality > self.max_quality:
            raise _errors.ConfigurationError(
                "min_quality (%d) must not be greater than max_quality (%d)" % (self.min_quality, self.max_quality))
        self.max_pixels = _check_int("max_pixels", max_pixels, 1, 2 ** 31)

    @classmethod
    def from_params(cls, params):
        """Build from a module's params dict; unrelated keys are ignored, None means default."""
        kwargs = {}
        for name in cls._FIELDS:
            value = (params or {}).get(name)
            if value is not None:
                kwargs[name] = value
        return cls(**kwargs)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self._FIELDS)

    @property
    def fingerprint(self):
        """A short stable string for cache keys: equal profiles give equal fingerprints."""
        text = "|".join("%s=%s" % (name, getattr(self, name)) for name in self._FIELDS if name != "background")
        text += "|background=%02x%02x%02x" % self.background_rgb
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]

    def _key(self):
        return tuple(getattr(self, name) for name in self._FIELDS if name != "background") + (self.background_rgb,)

    def __eq__(self, other):
        return isinstance(other, ImageProfile) and self._key() == other._key()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "ImageProfile(%s)" % ", ".join("%s=%r" % (name, getattr(self, name)) for name in self._FIELDS)


# ----------------------------------------------------------------------------
# results


class Photo(namedtuple("Photo", ["data", "sha256", "width", "height", "format"])):
    """A normalized photo.  ``summary()`` is what may be shown; it never holds the bytes."""

    __slots__ = ()

    def summary(self):
        return dict(sha256=self.sha256, bytes=len(self.data), width=self.width, height=self.height, format=self.format)


class ImageInfo(object):
    """What ``describe`` found.

    ``width``/``height`` are as stored (before EXIF orientation);
    ``display_width``/``display_height`` as shown (after it).  ``meets_profile`` is
    None when no profile was given, else a bool with ``reasons`` saying why not.
    """

    _FIELDS = ("format", "mode", "width", "height", "display_width", "display_height", "orientation",
               "bytes", "sha256", "progressive", "frames", "has_alpha", "icc_profile", "metadata",
               "meets_profile", "reasons")

    def __init__(self, **kwargs):
        for name in self._FIELDS:
            setattr(self, name, kwargs.get(name))
        if self.reasons is None:
            self.reasons = []
        if self.metadata is None:
            self.metadata = []

    def as_dict(self):
        result = dict((name, getattr(self, name)) for name in self._FIELDS)
        result["reasons"] = list(self.reasons)
        result["metadata"] = list(self.metadata)
        return result

    def __repr__(self):
        return "ImageInfo(%s)" % ", ".join("%s=%r" % (n, getattr(self, n)) for n in self._FIELDS)


# ----------------------------------------------------------------------------
# sniffing: name what the bytes are before any decoder runs

_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"hevm", b"hevs")
_AVIF_BRANDS = (b"avif", b"avis")


def _printable_start(data, length=24):
    text = data[:200].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    text = text[:length]
    return text.replace("\r", " ").replace("\n", " ")


def _hex_start(data, length=8):
    return " ".join("%02x" % b for b in bytearray(data[:length]))


def _ftyp_brands(data):
    if len(data) < 16 or data[4:8] != b"ftyp":
        return ()
    size = struct.unpack(">I", data[0:4])[0]
    size = min(max(size, 16), len(data), 256)
    brands = [data[8:12]]
    for i in range(16, size - 3, 4):
        brands.append(data[i:i + 4])
    return tuple(brands)


def _looks_like_text(data):
    sample = data[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # a cut in the middle of a multi-byte character at the end of the sample
        try:
            text = sample[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable >= 0.95 * len(text)


def sniff(data):
    """Return the container kind of ``data`` as a short lower-case word, or raise a typed error.

    Raises InvalidImage for things that are not images at all and UnsupportedFormat
    for images whose decoder is missing.  Returns 'jpeg', 'png', 'gif', 'bmp',
    'tiff', 'webp', 'heif', 'avif' or 'other' (left to Pillow to recognise).
    """
    if data is None:
        raise _errors.InvalidImage("no data (None)")
    if isinstance(data, str):
        raise _errors.InvalidImage("text string, not image bytes (starts with %r)" % data[:24],
                                   hint="Read the file in binary mode")
    if not data:
        raise _errors.InvalidImage("empty (0 bytes)")
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    brands = _ftyp_brands(data)
    if brands:
        if any(b in _AVIF_BRANDS for b in brands[:1]) or (brands[0] not in _HEIF_BRANDS and any(b in _AVIF_BRANDS for b in brands)):
            if not _avif_supported():
                raise _errors.UnsupportedFormat(
                    "AVIF image, but this Pillow has no AVIF decoder",
                    hint="Install Pillow 11.2 or later built with libavif (the PyPI wheels are)")
            return "avif"
        if any(b in _HEIF_BRANDS for b in brands):
            if not HAS_PILLOW_HEIF:
                raise _errors.UnsupportedFormat("HEIC needs the pillow-heif package (pip install pillow-heif)")
            return "heif"
        raise _errors.InvalidImage("not an image: an ISO media file (brand %r), probably a video" % brands[0].decode("latin-1"))
    if head.startswith(b"%PDF"):
        raise _errors.InvalidImage("PDF document, not an image", hint="Export the photo as JPEG or PNG")
    if head.startswith(b"%!PS") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        raise _errors.InvalidImage("PostScript/EPS document, not supported", hint="Export the photo as JPEG or PNG")
    if head.startswith(b"8BPS"):
        raise _errors.UnsupportedFormat("Photoshop PSD files are not supported; export a PNG or JPEG")
    if head.startswith(b"PK\x03\x04"):
        raise _errors.InvalidImage("not an image: a ZIP archive (or an Office document)")
    if head.startswith(b"\x1f\x8b"):
        raise _errors.InvalidImage("not an image: gzip-compressed data")
    if _looks_like_text(data):
        text = _printable_start(data, 200)
        lower = text.lower()
        start = _printable_start(data)
        if lower.startswith("<!doctype html") or lower.startswith("<html") or "<html" in lower[:200] or "<head" in lower[:200] or "<body" in lower[:200]:
            raise _errors.InvalidImage("not an image: looks like an HTML page (starts with %r)" % start,
                                       hint="A web server probably answered with an error or login page")
        if lower.startswith("<svg") or "<svg" in _printable_start(data, 1000).lower():
            raise _errors.InvalidImage("SVG vector images are not supported; export a PNG or JPEG")
        if lower.startswith("<?xml") or lower.startswith("<"):
            raise _errors.InvalidImage("not an image: looks like XML (starts with %r)" % start)
        if lower.startswith("{") or lower.startswith("["):
            raise _errors.InvalidImage("not an image: looks like JSON (starts with %r)" % start)
        if lower.startswith("data:image/"):
            raise _errors.InvalidImage("not an image: a data: URI (text); decode the base64 part first")
        for prefix, kind in (("/9j/", "JPEG"), ("ivborw0kggo", "PNG"), ("r0lgod", "GIF"), ("uklgr", "WebP")):
            if lower.startswith(prefix):
                raise _errors.InvalidImage("not an image: base64 text of a %s (starts with %r)" % (kind, start),
                                           hint="Decode the base64 before passing the photo")
        raise _errors.InvalidImage("not an image: looks like text (starts with %r)" % start)
    return "other"


_AVIF_STATE = {}
_HEIF_LOCK = threading.Lock()
_HEIF_STATE = {"registered": False}


def _avif_supported():
    if "ok" not in _AVIF_STATE:
        ok = False
        if HAS_PIL:
            try:
                from PIL import features
                ok = bool(features.check("avif"))
            except Exception:  # an old Pillow without the 'avif' feature name raises ValueError
                ok = False
        _AVIF_STATE["ok"] = ok
    return _AVIF_STATE["ok"]


def _ensure_heif_opener():
    """Register pillow-heif's opener the first time a HEIC photo shows up."""
    if not HAS_PILLOW_HEIF:
        raise _errors.UnsupportedFormat("HEIC needs the pillow-heif package (pip install pillow-heif)")
    with _HEIF_LOCK:
        if not _HEIF_STATE["registered"]:
            try:
                import pillow_heif  # pylint: disable=import-outside-toplevel
            except ImportError:
                raise _errors.UnsupportedFormat("HEIC needs the pillow-heif package (pip install pillow-heif)")
            pillow_heif.register_heif_opener(thumbnails=False)
            _HEIF_STATE["registered"] = True


# ----------------------------------------------------------------------------
# JPEG segments: find the metadata, the frame type, and strip losslessly

_SOF_MARKERS = frozenset([0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF])
_STANDALONE = frozenset([0x01] + list(range(0xD0, 0xD8)))

JpegScan = namedtuple("JpegScan", ["segments", "sof", "components", "complete", "trailing"])


def _scan_jpeg(data):
    """Split a JPEG into segments.

    Returns JpegScan(segments=[(marker, start, end)], sof=marker or None,
    components=int or None, complete=bool (EOI reached), trailing=bytes after EOI).
    Entropy-coded data after each SOS is returned as a pseudo-segment with marker None.
    """
    segments = [(0xD8, 0, 2)]
    pos = 2
    size = len(data)
    sof = None
    components = None
    while pos < size:
        if data[pos] != 0xFF:
            return JpegScan(segments, sof, components, False, b"")
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            break
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:
            segments.append((0xD9, start, pos))
            return JpegScan(segments, sof, components, True, data[pos:])
        if marker in _STANDALONE:
            segments.append((marker, start, pos))
            continue
        if pos + 2 > size:
            break
        length = struct.unpack(">H", data[pos:pos + 2])[0]
        end = pos + length
        if length < 2 or end > size:
            break
        segments.append((marker, start, end))
        if marker in _SOF_MARKERS and sof is None:
            sof = marker
            if length >= 8:
                components = data[pos + 7]
        pos = end
        if marker == 0xDA:
            # entropy-coded data: runs until a marker other than a stuffed 0x00 or RSTn
            ecs = pos
            while True:
                nxt = data.find(b"\xff", pos)
                if nxt < 0 or nxt + 1 >= size:
                    segments.append((None, ecs, size))
                    return JpegScan(segments, sof, components, False, b"")
                following = data[nxt + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos = nxt + 1 if following == 0xFF else nxt + 2
                    continue
                segments.append((None, ecs, nxt))
                pos = nxt
                break
    return JpegScan(segments, sof, components, False, b"")


def _segment_kind(data, marker, start, end):
    """Name a metadata segment ('exif', 'xmp', 'icc', 'comment', 'jfif', 'jfxx', 'adobe', 'appN') or None."""
    if marker == 0xFE:
        return "comment"
    if marker is None or not 0xE0 <= marker <= 0xEF:
        return None
    payload = data[start + 4:end]
    if marker == 0xE0:
        if payload.startswith(b"JFIF\x00"):
            return "jfif"
        if payload.startswith(b"JFXX\x00"):
            return "jfxx"
    if marker == 0xE1:
        if payload.startswith(b"Exif\x00"):
            return "exif"
        if payload.startswith(b"http://ns.adobe.com/xap/1.0/") or payload.startswith(b"http://ns.adobe.com/xmp/extension/"):
            return "xmp"
    if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        return "icc"
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):
        return "mpf"
    if marker == 0xED:
        return "iptc"
    if marker == 0xEE and payload.startswith(b"Adobe"):
        return "adobe"
    return "app%d" % (marker - 0xE0)


def _jpeg_metadata(data, scan):
    kinds = []
    for marker, start, end in scan.segments:
        kind = _segment_kind(data, marker, start, end)
        if kind and kind not in ("jfif", "adobe"):
            kinds.append(kind)
        elif kind == "jfif" and end - start >= 18 and (data[start + 16] or data[start + 17]):
            kinds.append("jfif-thumbnail")
    if scan.trailing.strip(b"\x00"):
        kinds.append("trailing-data")
    return kinds


def strip_jpeg_metadata(data, scan=None):
    """Drop every APPn (except JFIF and Adobe), COM segment and data after EOI.

    The entropy-coded data, tables and frame header are copied byte for byte, so the
    decoded pixels are unchanged.  A JFIF thumbnail is dropped from the JFIF segment.
    """
    if scan is None:
        scan = _scan_jpeg(data)
    out = []
    for marker, start, end in scan.segments:
        kind = _segment_kind(data, marker, start, end)
        if kind == "jfif":
            segment = data[start:end]
            if len(segment) >= 18 and (segment[16] or segment[17]):
                body = segment[4:16] + b"\x00\x00"
                segment = b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body
            out.append(segment)
        elif kind in (None, "adobe"):
            out.append(data[start:end])
    return b"".join(out)


# ----------------------------------------------------------------------------
# opening, with the pixel limit and Pillow's bomb guard

_BOMB_LOCK = threading.Lock()

# What Pillow's decoders raise on bad data (besides DecompressionBombError): OSError
# (truncated, broken stream), SyntaxError (Pillow's "not a ... file"), ValueError and
# friends from header parsing in pure-Python plugins.
_DECODER_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, TypeError,
                   KeyError, ZeroDivisionError, MemoryError, RuntimeError, AttributeError)


def _open(data, kind, profile):
    """Image.open restricted to ALLOWED_FORMATS, with the pixel limit applied to the header."""
    if kind == "heif":
        _ensure_heif_opener()
    max_pixels = profile.max_pixels
    pillow_limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # our own pixel check below replaces DecompressionBombWarning; Pillow's other
            # warnings (corrupt EXIF, odd TIFF tags) are about data we reject or ignore anyway
            warnings.simplefilter("ignore")
            if pillow_limit is not None and max_pixels > 2 * pillow_limit:
                # Pillow would refuse before we can apply our (higher) limit: lift its
                # guard for this open only, under a lock, and put it back at once.
                with _BOMB_LOCK:
                    saved = Image.MAX_IMAGE_PIXELS
                    Image.MAX_IMAGE_PIXELS = None
                    try:
                        img = Image.open(io.BytesIO(data), formats=_formats(kind))
                    finally:
                        Image.MAX_IMAGE_PIXELS = saved
            else:
                img = Image.open(io.BytesIO(data), formats=_formats(kind))
    except Image.DecompressionBombError as exc:
        raise _errors.ImageTooLarge(_bomb_message(exc, max_pixels),
                                    hint="Refused before decoding, as a possible decompression bomb")
    except Image.UnidentifiedImageError:
        raise _errors.InvalidImage(_unidentified_message(data, kind))
    except _DECODER_ERRORS as exc:
        raise _errors.InvalidImage("%s: %s" % (_truncation_message(kind, data) or "corrupt image header", exc))
    width, height = img.size
    if width <= 0 or height <= 0:
        raise _errors.InvalidImage("image header says %dx%d pixels" % (width, height))
    pixels = width * height
    if pixels > max_pixels:
        raise _errors.ImageTooLarge(
            "%dx%d image has %d pixels, over the limit of %d (max_pixels)" % (width, height, pixels, max_pixels),
            hint="Refused before decoding, as a possible decompression bomb; raise max_pixels only for sources you trust")
    if img.format not in ALLOWED_FORMATS:  # pragma: no cover - Image.open(formats=...) already guarantees it
        raise _errors.UnsupportedFormat("%s images are not supported" % img.format)
    return img


def _bomb_message(exc, max_pixels):
    match = re.search(r"\((\d+) pixels\)", str(exc))
    found = ("%s pixels" % match.group(1)) if match else "too many pixels"
    return "image has %s, over the limit of %d (max_pixels)" % (found, max_pixels)


_PLUGINS = {}


# Kinds (sniff()) whose decoder Pillow's preinit() registers: for them the other ~40 plugins are not
# imported (Image.init() costs about 30 ms, paid by every thumbnail_photo task otherwise).
_PREINIT_KINDS = ("jpeg", "png", "gif", "bmp")


def _formats(kind=None):
    """ALLOWED_FORMATS that this Pillow has a decoder registered for (all plugins loaded once, unless the
    photo is of a kind the few preloaded plugins read)."""
    if kind in _PREINIT_KINDS and "init" not in _PLUGINS:
        Image.preinit()
        return [name for name in ALLOWED_FORMATS if name in Image.OPEN]
    if "init" not in _PLUGINS:
        Image.init()
        _PLUGINS["init"] = True
    return [name for name in ALLOWED_FORMATS if name in Image.OPEN]


_KIND_NAMES = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF", "webp": "WebP",
               "heif": "HEIC", "avif": "AVIF"}


def _unidentified_message(data, kind):
    if kind in _KIND_NAMES:
        return _truncation_message(kind, data) or "corrupt %s (Pillow cannot read its header)" % _KIND_NAMES[kind]
    return "not an image: unrecognised data (starts with bytes %s)" % _hex_start(data)


def _truncation_message(kind, data):
    if kind == "jpeg":
        if not _scan_jpeg(data).complete:
            return "truncated JPEG"
    elif kind == "png":
        if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
            return "truncated PNG"
    elif kind == "gif":
        if not data.rstrip(b"\x00").endswith(b";"):
            return "truncated GIF"
    return None


def _load(img, kind, data):
    """Decode the pixels, mapping every decoder failure to InvalidImage."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # somebody switched Pillow's leniency on process-wide; do not let a grey half-photo through
        message = _truncation_message(kind, data)
        if message:
            raise _errors.InvalidImage(message)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.load()
    except Image.DecompressionBombError as exc:
        raise _errors.ImageTooLarge(_bomb_message(exc, Image.MAX_IMAGE_PIXELS or 0))
    except _DECODER_ERRORS as exc:
        raise _decode_error(img, kind, data, exc)


def _decode_error(img, kind, data, exc):
    """The InvalidImage for a decoder failure while reading the pixels."""
    text = str(exc)
    message = _truncation_message(kind, data)
    if not message and "truncated" in text:
        message = "truncated %s" % _KIND_NAMES.get(kind, img.format or "image")
    return _errors.InvalidImage("%s (%s)" % (message or "corrupt %s data" % _KIND_NAMES.get(kind, img.format), text))


# ----------------------------------------------------------------------------
# orientation, colour, transparency

_ORIENTATION_OPS = None


def _orientation_ops():
    global _ORIENTATION_OPS
    if _ORIENTATION_OPS is None:
        t = Image.Transpose
        # EXIF 0x0112: how to turn the stored pixels to display them upright
        _ORIENTATION_OPS = {
            2: [t.FLIP_LEFT_RIGHT],
            3: [t.ROTATE_180],
            4: [t.FLIP_TOP_BOTTOM],
            5: [t.TRANSPOSE],
            6: [t.ROTATE_270],  # 90 degrees clockwise
            7: [t.TRANSVERSE],
            8: [t.ROTATE_90],   # 90 degrees counter-clockwise
        }
    return _ORIENTATION_OPS


def _decode_started(img):
    """True once Pillow has started decoding the pixels (an image buffer exists or no tiles are left)."""
    if "_im" in vars(img):
        buffer = vars(img)["_im"]
    else:  # Pillow before 11 keeps the buffer in a plain attribute
        buffer = vars(img).get("im")
    return buffer is not None or not getattr(img, "tile", None)


def _orientation(img, kind=None, data=None):
    """EXIF orientation 1..8; anything missing, unreadable or out of range counts as 1.

    Some formats decode the whole image to look for EXIF (PNG may keep an eXIf chunk
    after the pixel data).  A decoder failure there is a corrupt image, never "no
    orientation": Pillow marks the image loaded before it raises, so a later load()
    would hand back a half-filled buffer (a black or garbled photo).
    """
    started = _decode_started(img)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = img.getexif().get(0x0112)
    except Image.DecompressionBombError as exc:
        raise _errors.ImageTooLarge(_bomb_message(exc, Image.MAX_IMAGE_PIXELS or 0))
    except Exception as exc:  # malformed EXIF must not fail a photo: it only means "no orientation"
        if not started and _decode_started(img):
            raise _decode_error(img, kind, data or b"", exc)
        return 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


_SRGB = {}
_TRANSFORMS = {}
_TRANSFORM_LOCK = threading.Lock()


def _srgb_profile():
    if "p" not in _SRGB:
        cms = _cms()
        _SRGB["p"] = cms.ImageCmsProfile(cms.createProfile("sRGB"))
    return _SRGB["p"]


_SRGB_PROBE = [(r, g, b) for r in (0, 64, 128, 192, 255) for g in (0, 96, 255) for b in (0, 160, 255)]
_SRGB_VERDICTS = {}


def _pixels(img):
    width = img.size[0]
    return [img.getpixel((x, 0)) for x in range(width)]


def _icc_is_srgb(icc):
    """True when converting from the embedded RGB profile to sRGB changes no colour by more
    than 2 levels (that is, the profile is sRGB whatever it is called)."""
    key = hashlib.sha256(icc).hexdigest()
    if key in _SRGB_VERDICTS:
        return _SRGB_VERDICTS[key]
    verdict = False
    if _icc_colour_space(icc) == b"RGB ":
        transform = _icc_transform(icc, "RGB")
        if transform is not None:
            probe = Image.new("RGB", (len(_SRGB_PROBE), 1))
            probe.putdata(_SRGB_PROBE)
            cms = _cms()
            try:
                converted = cms.applyTransform(probe, transform)
            except (cms.PyCMSError, OSError, ValueError):
                converted = None
            if converted is not None:
                verdict = all(abs(a - b) <= 2 for before, after in zip(_SRGB_PROBE, _pixels(converted))
                              for a, b in zip(before, after))
    if len(_SRGB_VERDICTS) > 256:
        _SRGB_VERDICTS.clear()
    _SRGB_VERDICTS[key] = verdict
    return verdict


def _icc_colour_space(icc):
    return icc[16:20] if icc and len(icc) >= 20 else b""


def _icc_transform(icc, in_mode):
    """A cached transform from the embedded profile to sRGB, or None when it cannot be used."""
    key = (hashlib.sha256(icc).hexdigest(), in_mode)
    with _TRANSFORM_LOCK:
        if key in _TRANSFORMS:
            return _TRANSFORMS[key]
    transform = None
    cms = _cms()
    if cms is None:
        return None
    try:
        source = cms.ImageCmsProfile(io.BytesIO(icc))
        intent = cms.Intent.PERCEPTUAL
        if not cms.isIntentSupported(source, intent, cms.Direction.INPUT):
            intent = cms.Intent.RELATIVE_COLORIMETRIC
        transform = cms.buildTransform(source, _srgb_profile(), in_mode, "RGB", renderingIntent=intent)
    except (cms.PyCMSError, OSError, ValueError, TypeError):
        transform = None
    with _TRANSFORM_LOCK:
        if len(_TRANSFORMS) > 64:
            _TRANSFORMS.clear()
        _TRANSFORMS[key] = transform
    return transform


PngColourKey = namedtuple("PngColourKey", ["bit_depth", "colour_type", "samples"])


def png_colour_key(data):
    """The tRNS colour key of a greyscale or truecolour PNG, read from the file itself, or None.

    Pillow reports the key as the raw sample even where it scales the pixels (2- and
    4-bit grey), keeps it 16-bit where it truncates the pixels to 8 bits (16-bit RGB),
    and cannot flatten a 16-bit grey key at all; so the key is taken from the bytes.
    ``samples`` is (grey,) or (red, green, blue), as stored (0 .. 2**bit_depth - 1).
    """
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos = 8
    bit_depth = colour_type = None
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) < length or kind in (b"IDAT", b"IEND"):
            return None  # tRNS must come before the pixel data
        if kind == b"IHDR" and length >= 13:
            bit_depth, colour_type = body[8], body[9]
        elif kind == b"tRNS" and colour_type in (0, 2) and bit_depth in (1, 2, 4, 8, 16):
            count = 1 if colour_type == 0 else 3
            if length < 2 * count:
                return None
            mask = (1 << bit_depth) - 1
            samples = struct.unpack(">%dH" % count, body[:2 * count])
            return PngColourKey(bit_depth, colour_type, tuple(v & mask for v in samples))
        pos += 12 + length
    return None


def _equal_mask(band, value):
    """An 'L' mask: 255 where the 8-bit ``band`` equals ``value``, 0 elsewhere."""
    return band.point([255 if v == value else 0 for v in range(256)])


def _colour_key_mask(img, key):
    """Alpha ('L', 0 = transparent) for the decoded PNG ``img`` with colour key ``key``, or None if unusable.

    Grey below 8 bits is decoded scaled to 0-255 (sample * 255 / (2**depth - 1)), 8-bit
    exactly; 16-bit grey is compared on all 16 bits.  16-bit truecolour is decoded to its
    high bytes, so there the key matches on the high bytes (a colour less than 1/256 away
    from the key also becomes background).
    """
    depth = key.bit_depth
    if key.colour_type == 0:
        sample = key.samples[0]
        if depth == 16:
            if img.mode not in ("I;16", "I;16B", "I;16L", "I"):
                return None
            # the two bytes of each sample as the two bands of an 8-bit image: exact comparison
            raw = img.tobytes("raw", "I;16B") if img.mode != "I" else img.convert("I;16").tobytes("raw", "I;16B")
            high, low = Image.frombytes("LA", img.size, raw).split()
            matched = ImageChops.multiply(_equal_mask(high, sample >> 8), _equal_mask(low, sample & 0xFF))
        else:
            if img.mode not in ("1", "L"):
                return None
            band = img.convert("L") if img.mode == "1" else img
            matched = _equal_mask(band, sample * 255 // ((1 << depth) - 1))
    else:
        if img.mode != "RGB":
            return None
        shift = 8 if depth == 16 else 0
        bands = img.split()
        matched = _equal_mask(bands[0], key.samples[0] >> shift)
        for band, sample in zip(bands[1:], key.samples[1:]):
            matched = ImageChops.multiply(matched, _equal_mask(band, sample >> shift))
    return ImageChops.invert(matched)


def _to_output_mode(img, icc, background, colour_key=None):
    """Any decoded mode -> 'RGB' or 'L', ICC converted to sRGB, transparency flattened.

    ``colour_key``: a PngColourKey read from the file (see png_colour_key), which then
    decides the transparent pixels instead of what Pillow reports.
    """
    key_alpha = None
    if colour_key is not None:
        key_alpha = _colour_key_mask(img, colour_key)
        if key_alpha is not None:
            img.info.pop("transparency", None)
            if key_alpha.getextrema()[0] == 255:
                key_alpha = None  # no pixel has the key colour
    mode = img.mode
    if mode in ("1", "L", "RGB") and "transparency" in img.info:
        # a single transparent colour (PNG tRNS colour key)
        img = img.convert("RGBA")
        mode = img.mode
    if mode == "1":
        img = img.convert("L")
    elif mode in ("I", "F") or mode.startswith("I;16"):
        if mode != "F":
            img = img.convert("I") if mode != "I" else img
            img = img.point(lambda v: v * (1.0 / 257.0))  # 16-bit range onto 8 bits
        else:
            high = img.getextrema()[1]
            img = img.point(lambda v: v * 255.0) if high <= 1.0 else img
        img = img.convert("L")
    elif mode in ("P", "PA"):
        img = img.convert("RGBA")
    elif mode in ("RGBa", "RGBX"):
        img = img.convert("RGBA" if mode == "RGBa" else "RGB")
    elif mode == "La":
        img = img.convert("LA")
    elif mode not in ("RGB", "RGBA", "L", "LA", "CMYK", "YCbCr", "LAB", "HSV"):
        try:
            img = img.convert("RGBA" if "A" in mode else "RGB")
        except (ValueError, OSError):
            raise _errors.UnsupportedFormat("colour mode %s is not supported" % mode)

    alpha = key_alpha
    if img.mode in ("RGBA", "LA"):
        alpha = img.getchannel("A")
        if alpha.getextrema()[0] == 255:
            alpha = None
        img = img.convert("RGB" if img.mode == "RGBA" else "L")

    space = _icc_colour_space(icc)
    converted = False
    if icc and img.mode in ("RGB", "CMYK") and space == {"RGB": b"RGB ", "CMYK": b"CMYK"}[img.mode]:
        if img.mode == "CMYK" or not _icc_is_srgb(icc):
            transform = _icc_transform(icc, img.mode)
            if transform is not None:
                img = _cms().applyTransform(img, transform)
                converted = True
    if not converted and img.mode not in ("RGB", "L"):
        try:
            img = img.convert("RGB")
        except (ValueError, OSError):
            raise _errors.UnsupportedFormat("colour mode %s cannot be converted to RGB" % img.mode)

    if alpha is not None:
        bg = tuple(background)
        if img.mode == "L" and not (bg[0] == bg[1] == bg[2]):
            img = img.convert("RGB")
        fill = bg[0] if img.mode == "L" else bg
        base = Image.new(img.mode, img.size, fill)
        base.paste(img, (0, 0), alpha)
        img = base
    return img


# ----------------------------------------------------------------------------
# geometry


def _target_geometry(width, height, profile):
    """(crop box in display coordinates or None, content size, canvas size).

    contain: content == canvas, the picture scaled into the box, never enlarged.
    cover: the centred square of the picture, scaled to at most the box.
    pad: the contained picture centred on a square canvas (bars of background).
    """
    dim = profile.max_dimension
    if profile.fit == "cover":
        side = min(width, height)
        left = (width - side) // 2
        top = (height - side) // 2
        out = min(side, dim)
        return (left, top, left + side, top + side), (out, out), (out, out)
    scale = min(1.0, float(dim) / max(width, height))
    content = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    if profile.fit == "pad":
        side = max(content)
        return None, content, (side, side)
    return None, content, content


def _stored_size(img):
    """Width and height as stored in the file, before any orientation.

    Pillow reports TIFF sizes already turned by the orientation tag (and turns the
    pixels on load); every other format reports the stored size.
    """
    if img.format == "TIFF":
        try:
            stored = (int(img.tag_v2[256]), int(img.tag_v2[257]))
        except (KeyError, TypeError, ValueError, AttributeError):
            return img.size
        if stored == img.size or stored == img.size[::-1]:
            return stored
    return img.size


def _meets(info, profile):
    """Reasons why the described image does not already meet the profile (empty list: it does)."""
    reasons = []
    if info.format not in ("JPEG", "MPO"):
        reasons.append("format is %s, not JPEG" % info.format)
    elif info.progressive:
        reasons.append("progressive or non-baseline JPEG")
    if info.mode not in ("RGB", "L"):
        reasons.append("colour mode %s, not RGB or L" % info.mode)
    if info.orientation != 1:
        reasons.append("EXIF orientation %d needs applying" % info.orientation)
    dim = profile.max_dimension
    if info.width > dim or info.height > dim:
        reasons.append("%dx%d is larger than %dx%d" % (info.width, info.height, dim, dim))
    if profile.fit in ("cover", "pad") and info.width != info.height:
        reasons.append("not square (fit=%s)" % profile.fit)
    return reasons


# ----------------------------------------------------------------------------
# the pipeline


def _frame_count(img):
    try:
        return int(getattr(img, "n_frames", 1))
    except _DECODER_ERRORS as exc:
        raise _errors.InvalidImage("corrupt %s: cannot count its frames (%s)" % (img.format, exc))
    finally:
        try:
            img.seek(0)
        except _DECODER_ERRORS:
            pass  # a single-frame image or one that failed above: nothing to rewind


def _inspect(data, profile):
    """Sniff, open and describe; returns (img, kind, info, scan)."""
    kind = sniff(data)
    img = _open(data, kind, profile)
    scan = _scan_jpeg(data) if kind == "jpeg" else None
    orientation = _orientation(img, kind, data)
    width, height = _stored_size(img)
    display = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    progressive = False
    metadata = []
    icc = img.info.get("icc_profile") or None
    if scan is not None:
        progressive = scan.sof != 0xC0
        metadata = _jpeg_metadata(data, scan)
    else:
        for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
            if img.info.get(key):
                metadata.append({"icc_profile": "icc", "XML:com.adobe.xmp": "xmp"}.get(key, key))
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    info = ImageInfo(
        format=img.format, mode=img.mode, width=width, height=height,
        display_width=display[0], display_height=display[1], orientation=orientation,
        bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), progressive=progressive,
        frames=_frame_count(img), has_alpha=has_alpha, icc_profile=bool(icc),
        metadata=sorted(set(metadata)),
    )
    return img, kind, info, scan


def _compliant_bytes(data, img, kind, info, scan, profile):
    """If the input already meets the profile, return it with metadata stripped, else None.

    Fills ``info.meets_profile`` and ``info.reasons``.
    """
    reasons = _meets(info, profile)
    icc = img.info.get("icc_profile")
    if not reasons and icc and info.mode == "RGB" and not _icc_is_srgb(icc):
        reasons.append("embedded ICC profile is not sRGB (colours need converting)")
    if not reasons and scan is not None and not scan.complete:
        reasons.append("truncated JPEG")
    candidate = None
    if not reasons:
        candidate = strip_jpeg_metadata(data, scan) if info.metadata else data
        if len(candidate) > profile.max_bytes:
            reasons.append("%d bytes is over max_bytes %d" % (len(candidate), profile.max_bytes))
            candidate = None
    if candidate is not None:
        # decode what we would return: a photo that does not decode is not kept
        check = _open(candidate, "jpeg", profile)
        _load(check, "jpeg", candidate)
    info.meets_profile = not reasons
    info.reasons = reasons
    return candidate


def _encode(img, quality):
    out = io.BytesIO()
    img.info = {}
    params = dict(format="JPEG", quality=quality, optimize=True, progressive=False)
    if img.mode == "RGB":
        params["subsampling"] = _RGB_SUBSAMPLING
    img.save(out, **params)
    return out.getvalue()


def _best_encoding(img, profile):
    """Highest quality in [min_quality, max_quality] whose JPEG fits max_bytes, or None."""
    low, high = profile.min_quality, profile.max_quality
    best = _encode(img, high)
    if len(best) <= profile.max_bytes:
        return best
    smallest = _encode(img, low)
    if len(smallest) > profile.max_bytes:
        return None
    best = smallest
    low += 1
    high -= 1
    while low <= high:
        mid = (low + high) // 2
        attempt = _encode(img, mid)
        if len(attempt) <= profile.max_bytes:
            best = attempt
            low = mid + 1
        else:
            high = mid - 1
    return best


def _resize(img, crop, size):
    """LANCZOS resize of the crop box (display coordinates of ``img``) to ``size``."""
    box = crop if crop is not None else (0, 0) + img.size
    if size == (box[2] - box[0], box[3] - box[1]):
        return img.crop(box) if crop is not None else img.copy()
    return img.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP)


def _decode_for_render(img, kind, data, info, profile):
    """Decode at the smallest useful scale, apply orientation; returns the oriented image."""
    if img.format in ("JPEG", "MPO"):
        width, height = info.display_width, info.display_height
        crop, content, _canvas = _target_geometry(width, height, profile)
        if crop is not None:
            factor = float(content[0]) / (crop[2] - crop[0])
        else:
            factor = float(content[0]) / width
        wanted = (max(1, int(math.ceil(img.size[0] * factor * _DRAFT_OVERSAMPLE))),
                  max(1, int(math.ceil(img.size[1] * factor * _DRAFT_OVERSAMPLE))))
        if wanted[0] < img.size[0] and wanted[1] < img.size[1]:
            img.draft(img.mode, wanted)
    _load(img, kind, data)
    if img.format in ("JPEG", "MPO") and img.mode == "CMYK" and "adobe" not in img.info:
        # Pillow reads every CMYK JPEG with Adobe's inverted polarity; without the
        # APP14 Adobe marker the samples are plain ink values, so undo that.
        img = img.point(lambda v: 255 - v)
    if info.orientation != 1 and _orientation(img) == 1:
        # this Pillow applied the orientation while decoding (it does for TIFF)
        return img
    ops = _orientation_ops().get(info.orientation, [])
    for op in ops:
        img = img.transpose(op)
    return img


def normalize(data, profile):
    """Turn any supported image into a baseline JPEG within ``profile``; see the module docstring."""
    if not HAS_PIL:
        raise _errors.ConfigurationError("the image pipeline needs Pillow (pip install Pillow)")
    if not isinstance(profile, ImageProfile):
        raise _errors.ConfigurationError("normalize() needs an ImageProfile, got %r" % (profile,))
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    img, kind, info, scan = _inspect(data, profile)
    try:
        kept = _compliant_bytes(data, img, kind, info, scan, profile)
        if kept is not None:
            return _photo(kept, info.width, info.height)
        icc = img.info.get("icc_profile")
        decoded = _decode_for_render(img, kind, data, info, profile)
        colour_key = png_colour_key(data) if kind == "png" and "transparency" in img.info else None
        decoded = _to_output_mode(decoded, icc, profile.background_rgb, colour_key)
        encoded, size = _render_display(decoded, info, profile)
        return _photo(encoded, size[0], size[1])
    except _errors.PhotoSyncError:
        raise
    except _DECODER_ERRORS as exc:
        raise _errors.InvalidImage("cannot process %s image: %s" % (info.format, exc))
    finally:
        img.close()


def _render_display(decoded, info, profile):
    """Render with geometry from the full display size, mapped onto the decoded pixels."""
    full_w, full_h = info.display_width, info.display_height
    crop, content, canvas = _target_geometry(full_w, full_h, profile)
    dw, dh = decoded.size
    sx = float(dw) / full_w
    sy = float(dh) / full_h
    if crop is not None:
        crop = (crop[0] * sx, crop[1] * sy, crop[2] * sx, crop[3] * sy)
    return _render_box(decoded, crop, content, canvas, profile)


def _render_box(img, crop, content, canvas, profile):
    scale = 1.0
    canvas_now = canvas
    for _attempt in range(40):
        size = (max(1, int(round(content[0] * scale))), max(1, int(round(content[1] * scale))))
        if profile.fit == "pad":
            side = max(size)
            canvas_now = (side, side)
        else:
            canvas_now = size
        resized = _resize(img, crop, size)
        if canvas_now != size:
            bg = profile.background_rgb
            if resized.mode == "L" and not (bg[0] == bg[1] == bg[2]):
                resized = resized.convert("RGB")
            base = Image.new(resized.mode, canvas_now, bg if resized.mode == "RGB" else bg[0])
            base.paste(resized, ((canvas_now[0] - size[0]) // 2, (canvas_now[1] - size[1]) // 2))
            resized = base
        encoded = _best_encoding(resized, profile)
        if encoded is not None:
            return encoded, resized.size
        if max(canvas_now) <= 1:
            break
        smallest = len(_encode(resized, profile.min_quality))
        factor = min(0.9, math.sqrt(float(profile.max_bytes) / smallest) * 0.95)
        scale *= factor
    raise _errors.ConfigurationError(
        "max_bytes %d is too small: even a %dx%d JPEG at quality %d does not fit"
        % (profile.max_bytes, canvas_now[0], canvas_now[1], profile.min_quality),
        hint="Raise max_bytes (a 96x96 photo needs about 2-6 KB)")


def _photo(data, width, height):
    return Photo(data=data, sha256=hashlib.sha256(data).hexdigest(), width=width, height=height, format="JPEG")


def _verify_decodes(img, kind, data):
    """Decode once so truncated or corrupt data is found (JPEG at 1/8 scale: it still reads every byte)."""
    if img.format in ("JPEG", "MPO"):
        img.draft(img.mode, (max(1, img.size[0] // 8), max(1, img.size[1] // 8)))
    _load(img, kind, data)


def describe(data, profile=None):
    """Describe ``data``; with a profile, also whether it already meets it (and why not)."""
    if not HAS_PIL:
        raise _errors.ConfigurationError("the image pipeline needs Pillow (pip install Pillow)")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    open_profile = profile if profile is not None else ImageProfile()
    img, kind, info, scan = _inspect(data, open_profile)
    try:
        _verify_decodes(img, kind, data)
        if profile is not None:
            _compliant_bytes(data, img, kind, info, scan, profile)
        return info
    except _errors.PhotoSyncError:
        raise
    except _DECODER_ERRORS as exc:
        raise _errors.InvalidImage("cannot read %s image: %s" % (info.format, exc))
    finally:
        img.close()


def summarize(data):
    """One report line for bytes found in the directory.  Never raises.

    dict(sha256, bytes, width, height, format, valid, error): width/height None and
    format 'unknown' when the bytes cannot be decoded; error says why.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    raw = data if isinstance(data, bytes) else b""
    result = dict(sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw), width=None, height=None,
                  format="unknown", valid=False, error=None)
    if data is not None and not isinstance(data, bytes):
        result["error"] = "not bytes but %s" % type(data).__name__
        return result
    if not HAS_PIL:
        result["error"] = "Pillow is not installed"
        return result
    try:
        img, kind, info, _scan = _inspect(data, ImageProfile())
        try:
            _verify_decodes(img, kind, data)
        finally:
            img.close()
    except _errors.PhotoSyncError as exc:
        result["error"] = str(exc)
        return result
    except Exception as exc:  # summarize is a report: it must never raise, whatever Pillow does
        result["error"] = "unexpected %s while reading the image: %s" % (type(exc).__name__, exc)
        return result
    result.update(width=info.display_width, height=info.display_height, format=info.format, valid=True)
    return result
