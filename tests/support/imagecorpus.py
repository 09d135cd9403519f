# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test corpus of images, generated in memory with Pillow (and a little byte surgery).

Every kind of input the image pipeline claims to handle, and every kind of bad input
it claims to refuse, made on the fly: no binary fixtures in the repository.  The
makers are deterministic (fixed seeds) so failures reproduce.

The orientation corpus is defined from the EXIF specification's own words, not
from Pillow's ``exif_transpose``, so it can catch a wrong mapping:

    1 upright                      5 mirrored along the top-left/bottom-right diagonal
    2 mirrored left-right          6 stored rotated 90 degrees counter-clockwise (display: rotate CW)
    3 rotated 180                  7 mirrored along the other diagonal
    4 mirrored top-bottom          8 stored rotated 90 degrees clockwise (display: rotate CCW)
"""

import io
import math
import random
import struct
import zlib

from PIL import Image, ImageDraw

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

# The upright pattern: quadrant colours, left-to-right, top-to-bottom.  All four
# differ, so each of the 8 orientations maps them to a different arrangement.
QUADRANTS = {"top_left": RED, "top_right": GREEN, "bottom_left": BLUE, "bottom_right": YELLOW}
PATTERN_SIZE = (240, 160)  # landscape, so a missed 90-degree turn also shows in the size


# ----------------------------------------------------------------------------
# pixels


def pattern(size=PATTERN_SIZE):
    """The upright asymmetric test picture: four coloured quadrants."""
    width, height = size
    img = Image.new("RGB", size, WHITE)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=QUADRANTS["top_left"])
    draw.rectangle((width // 2, 0, width - 1, height // 2 - 1), fill=QUADRANTS["top_right"])
    draw.rectangle((0, height // 2, width // 2 - 1, height - 1), fill=QUADRANTS["bottom_left"])
    draw.rectangle((width // 2, height // 2, width - 1, height - 1), fill=QUADRANTS["bottom_right"])
    return img


def photo_like(size, seed=1, grain=18):
    """Something with the statistics of a photo: gradients, soft shapes, edges and grain."""
    rnd = random.Random(seed)
    width, height = size
    small = (max(8, width // 8), max(8, height // 8))
    base = Image.new("RGB", small)
    px = base.load()
    for y in range(small[1]):
        for x in range(small[0]):
            fx, fy = x / float(small[0]), y / float(small[1])
            px[x, y] = (int(60 + 150 * fx), int(90 + 100 * fy), int(160 - 80 * fx * fy))
    img = base.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for dummy in range(60):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(max(2, min(size) // 40), max(3, min(size) // 6))
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        if rnd.random() < 0.5:
            draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=colour)
        else:
            draw.line((x0, y0, x0 + rnd.randrange(-r * 3, r * 3), y0 + rnd.randrange(-r * 3, r * 3)),
                      fill=colour, width=max(1, r // 6))
    noisy = noise(size, seed=seed, sigma=grain).convert("RGB")  # camera-like grain
    return Image.blend(img, noisy, 0.12)


def noise(size, seed=1, tile=128, sigma=None):
    """Deterministic grey noise, uniform 0-255 or Gaussian around 128 with ``sigma``, tiled.

    (Image.effect_noise would do, but depends on the C library's rand() state.)
    """
    rnd = random.Random(seed)
    if sigma is None:
        values = [rnd.randrange(256) for dummy in range(tile * tile)]
    else:
        values = [max(0, min(255, int(round(rnd.gauss(128, sigma))))) for dummy in range(tile * tile)]
    cell = Image.frombytes("L", (tile, tile), bytes(bytearray(values)))
    img = Image.new("L", size)
    for y in range(0, size[1], tile):
        for x in range(0, size[0], tile):
            img.paste(cell, (x, y))
    return img


def classify(rgb):
    """Name of the corpus colour nearest to ``rgb``."""
    names = {"red": RED, "green": GREEN, "blue": BLUE, "yellow": YELLOW, "white": WHITE, "black": BLACK}
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in zip(names[n], rgb)))


def quadrant_names(img):
    """Colour names at the centres of the four quadrants of a decoded RGB image."""
    img = img.convert("RGB")
    width, height = img.size
    at = {
        "top_left": (width // 4, height // 4),
        "top_right": (3 * width // 4, height // 4),
        "bottom_left": (width // 4, 3 * height // 4),
        "bottom_right": (3 * width // 4, 3 * height // 4),
    }
    return dict((k, classify(img.getpixel(xy))) for k, xy in at.items())


UPRIGHT_NAMES = dict((k, classify(v)) for k, v in QUADRANTS.items())


# ----------------------------------------------------------------------------
# encoders


def encode(img, fmt, **params):
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def jpeg(img=None, quality=92, **params):
    return encode(img if img is not None else photo_like((600, 800)), "JPEG", quality=quality, **params)


def exif_bytes(orientation=None, extra=True):
    exif = Image.Exif()
    if extra:
        exif[0x010F] = "Example Camera Maker"
        exif[0x0110] = "Model 7"
        exif[0x0131] = "corpus 1.0"
    if orientation is not None:
        exif[0x0112] = orientation
    return exif.tobytes()


# How to store an upright picture so that a viewer applying EXIF orientation N shows it
# upright, written out from the specification (see module docstring).
def _stored_for_orientation(upright, orientation):
    w, h = upright.size
    src = upright.load()
    if orientation in (5, 6, 7, 8):
        stored = Image.new("RGB", (h, w))
    else:
        stored = Image.new("RGB", (w, h))
    dst = stored.load()
    sw, sh = stored.size
    for y in range(sh):
        for x in range(sw):
            # (x, y) in stored pixels -> (u, v) in the displayed picture
            if orientation == 1:
                u, v = x, y
            elif orientation == 2:
                u, v = w - 1 - x, y
            elif orientation == 3:
                u, v = w - 1 - x, h - 1 - y
            elif orientation == 4:
                u, v = x, h - 1 - y
            elif orientation == 5:   # 0th row = visual left column, 0th column = visual top
                u, v = y, x
            elif orientation == 6:   # 0th row = visual right column, 0th column = visual top
                u, v = w - 1 - y, x
            elif orientation == 7:   # 0th row = visual right column, 0th column = visual bottom
                u, v = w - 1 - y, h - 1 - x
            else:                    # 8: 0th row = visual left column, 0th column = visual bottom
                u, v = y, h - 1 - x
            dst[x, y] = src[u, v]
    return stored


def oriented(orientation, fmt="JPEG", upright=None):
    """The pattern stored for EXIF orientation ``orientation`` (1..8), with the tag set."""
    upright = upright if upright is not None else pattern()
    stored = _stored_for_orientation(upright, orientation)
    params = {"exif": exif_bytes(orientation)}
    if fmt == "JPEG":
        params["quality"] = 95
    return encode(stored, fmt, **params)


# ----------------------------------------------------------------------------
# ICC profiles built by hand (no profile files on disk needed)

_D50 = (0.9642, 1.0, 0.8249)


def _s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def _tag_xyz(xyz):
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _tag_desc(text):
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + b"\0" * 8 + b"\0\0" + b"\0" + b"\0" * 67)


def _tag_text(text):
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


def _tag_gamma(gamma):
    return b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", int(round(gamma * 256))) + b"\0\0"


def _icc(device_class, colour_space, pcs, tags):
    tag_table = b""
    body = b""
    offset = 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        while len(data) % 4:
            data += b"\0"
        tag_table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + device_class
              + colour_space + pcs + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"APPL"
              + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
              + b"".join(_s15(v) for v in _D50) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + tag_table + body


def _srgb_to_xyz_d50(rgb):
    def lin(c):
        c = c / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = [lin(c) for c in rgb]
    # sRGB primaries already adapted to D50 (Bradford), as in the ICC sRGB profile
    x = 0.4360747 * r + 0.3850649 * g + 0.1430804 * b
    y = 0.2225045 * r + 0.7168786 * g + 0.0606169 * b
    z = 0.0139322 * r + 0.0971045 * g + 0.7141733 * b
    return x, y, z


def _xyz_to_lab(xyz):
    def f(t):
        return t ** (1.0 / 3) if t > (6.0 / 29) ** 3 else t / (3 * (6.0 / 29) ** 2) + 4.0 / 29
    fx, fy, fz = [f(v / w) for v, w in zip(xyz, _D50)]
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def swapped_primaries_rgb_profile():
    """An RGB profile whose red primary is sRGB's green and whose green is sRGB's red.

    Pixels (255, 0, 0) tagged with it are green to any colour-managed viewer, so a
    pipeline that converts embedded profiles turns them green, one that ignores them
    leaves them red.
    """
    red_xyz = (0.4360747, 0.2225045, 0.0139322)
    green_xyz = (0.3850649, 0.7168786, 0.0971045)
    blue_xyz = (0.1430804, 0.0606169, 0.7141733)
    return _icc(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _tag_desc("Corpus swapped-primaries RGB")),
        (b"cprt", _tag_text("No copyright, test data")),
        (b"wtpt", _tag_xyz(_D50)),
        (b"rXYZ", _tag_xyz(green_xyz)),
        (b"gXYZ", _tag_xyz(red_xyz)),
        (b"bXYZ", _tag_xyz(blue_xyz)),
        (b"rTRC", _tag_gamma(2.2)),
        (b"gTRC", _tag_gamma(2.2)),
        (b"bTRC", _tag_gamma(2.2)),
    ])


def srgb_profile_bytes():
    from PIL import ImageCms
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# What the corpus CMYK profile says each ink corner looks like (sRGB).  Red is
# plain red; blue is a realistic press blue, unlike the naive (0, 0, 255).
CMYK_PROFILE_CORNERS = {
    (0, 0, 0, 0): (255, 255, 255),
    (1, 0, 0, 0): (0, 160, 225),     # cyan ink
    (0, 1, 0, 0): (230, 0, 125),     # magenta ink
    (0, 0, 1, 0): (255, 240, 0),     # yellow ink
    (0, 1, 1, 0): (255, 0, 0),       # red
    (1, 0, 1, 0): (0, 150, 70),      # green
    (1, 1, 0, 0): (45, 50, 145),     # blue
    (1, 1, 1, 0): (40, 30, 30),
}


def cmyk_profile():
    """A small but real CMYK -> Lab (lut8, 2x2x2x2 grid) input profile."""
    grid = 2
    clut = b""
    for c in range(grid):
        for m in range(grid):
            for y in range(grid):
                for k in range(grid):
                    rgb = CMYK_PROFILE_CORNERS[(c, m, y, 0)]
                    if k:
                        rgb = tuple(int(v * 0.08) + 10 for v in rgb)
                    lab = _xyz_to_lab(_srgb_to_xyz_d50(rgb))
                    clut += bytes(bytearray([
                        max(0, min(255, int(round(lab[0] * 255 / 100.0)))),
                        max(0, min(255, int(round(lab[1] + 128)))),
                        max(0, min(255, int(round(lab[2] + 128)))),
                    ]))
    identity = bytes(bytearray(range(256)))
    lut = (b"mft1" + b"\0" * 4 + bytes(bytearray([4, 3, grid, 0]))
           + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
           + identity * 4 + clut + identity * 3)
    return _icc(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", _tag_desc("Corpus CMYK")),
        (b"cprt", _tag_text("No copyright, test data")),
        (b"wtpt", _tag_xyz(_D50)),
        (b"A2B0", lut),
    ])


# ----------------------------------------------------------------------------
# CMYK JPEG flavours


def _jpeg_segments_replace(data, fn):
    """Rebuild a JPEG, passing each header segment (marker, bytes) through ``fn``."""
    out = [data[:2]]
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xDA:
            out.append(data[pos:])
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        seg = data[pos:pos + 2 + length]
        new = fn(marker, seg)
        if new is not None:
            out.append(new)
        pos += 2 + length
    return b"".join(out)


def cmyk_jpeg(colour=(0, 255, 255, 0), size=(64, 48), adobe=True, icc=None, quality=95):
    """A CMYK JPEG of one ink colour (0-255 = no ink .. full ink).

    ``adobe=True``: what Photoshop writes (APP14 Adobe marker, inverted samples);
    this is also what Pillow writes.  ``adobe=False``: plain CMYK without the marker
    and with non-inverted samples.
    """
    img = Image.new("CMYK", size, colour)
    params = {"quality": quality}
    if icc:
        params["icc_profile"] = icc
    if adobe:
        return encode(img, "JPEG", **params)
    inverted = Image.new("CMYK", size, tuple(255 - v for v in colour))
    data = encode(inverted, "JPEG", **params)
    return _jpeg_segments_replace(data, lambda m, seg: None if (m == 0xEE and seg[4:9] == b"Adobe") else seg)


def ycck_jpeg(colour=(0, 255, 255, 0), size=(64, 48), quality=95):
    """An Adobe YCCK JPEG (APP14 transform 2) of one ink colour.

    The stored components are Y, Cb, Cr of the ink values of C, M, Y (as libjpeg's
    YCCK->CMYK inverse expects, which then gives Adobe's inverted CMYK) and the
    inverted K; built by letting Pillow store raw CMYK samples, then setting the
    Adobe transform flag to 2.
    """
    c, m, y, k = colour
    yy = 0.299 * c + 0.587 * m + 0.114 * y
    cb = -0.168736 * c - 0.331264 * m + 0.5 * y + 128
    cr = 0.5 * c - 0.418688 * m - 0.081312 * y + 128
    stored = [int(round(v)) for v in (yy, cb, cr)] + [255 - k]
    # Pillow writes CMYK samples inverted: give it 255 - stored
    img = Image.new("CMYK", size, tuple(255 - max(0, min(255, v)) for v in stored))
    data = encode(img, "JPEG", quality=quality)

    def patch(marker, seg):
        if marker == 0xEE and seg[4:9] == b"Adobe":
            return seg[:-1] + b"\x02"
        return seg
    return _jpeg_segments_replace(data, patch)


# ----------------------------------------------------------------------------
# transparency, depth, animation, pages


def half_transparent(mode="RGBA", size=(120, 80)):
    """Left half opaque red, right half fully transparent (black underneath, to catch 'turned black')."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
    if mode == "LA":
        la = Image.new("LA", size, (0, 0))
        la.paste((60, 255), (0, 0, size[0] // 2, size[1]))
        return la
    return img


def rgba_png():
    return encode(half_transparent(), "PNG")


def colour_key_png():
    """RGB PNG, left half red, right half black, black marked transparent with a tRNS colour key."""
    img = Image.new("RGB", (120, 80), BLACK)
    img.paste(RED, (0, 0, 60, 80))
    return encode(img, "PNG", transparency=BLACK)


def la_png():
    return encode(half_transparent("LA"), "PNG")


def palette_png_transparent():
    """Palette PNG: index 0 transparent (black in the palette), index 1 red."""
    img = Image.new("P", (120, 80), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    img.paste(1, (0, 0, 60, 80))
    return encode(img, "PNG", transparency=0)


def palette_gif_transparent():
    img = Image.new("P", (120, 80), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    img.paste(1, (0, 0, 60, 80))
    return encode(img, "GIF", transparency=0)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_raw(width, height, bit_depth, colour_type, rows, trns=None):
    """A PNG from raw scanlines (filter byte 0 added here); for depths Pillow cannot write.

    ``trns``: the body of a tRNS chunk (for grey: 2 bytes, the key sample), or None.
    """
    raw = b"".join(b"\0" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    extra = _png_chunk(b"tRNS", trns) if trns is not None else b""
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + extra + _png_chunk(b"IDAT", zlib.compress(raw, 9))
            + _png_chunk(b"IEND", b""))


def _pack_samples(samples, bit_depth):
    """Pack grey samples (ints below 2**bit_depth) into one PNG scanline, most significant bits first."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", v) for v in samples)
    if bit_depth == 8:
        return bytes(samples)
    per_byte = 8 // bit_depth
    out = bytearray()
    for start in range(0, len(samples), per_byte):
        group = list(samples[start:start + per_byte]) + [0] * (per_byte - len(samples[start:start + per_byte]))
        byte = 0
        for value in group:
            byte = (byte << bit_depth) | value
        out.append(byte)
    return bytes(out)


def grey_key_png(bit_depth, key, opaque=None, size=(40, 20)):
    """Greyscale PNG of ``bit_depth`` (1, 2, 4, 8, 16) with a tRNS colour key ``key`` (a raw sample).

    Left half: the opaque sample ``opaque`` (default: the maximum, white; for 1-bit the
    other value); right half: ``key``, which the tRNS chunk marks fully transparent.
    """
    top = (1 << bit_depth) - 1
    if opaque is None:
        opaque = top if key != top else 0
    half = size[0] // 2
    row = _pack_samples([opaque] * half + [key] * (size[0] - half), bit_depth)
    return png_raw(size[0], size[1], bit_depth, 0, [row] * size[1], trns=struct.pack(">H", key))


def grey_sample_to_8bit(sample, bit_depth):
    """What a raw grey sample of ``bit_depth`` shows as on an 8-bit display (PNG spec's scaling)."""
    return int(round(sample * 255.0 / ((1 << bit_depth) - 1)))


def png_interlaced(img):
    """An Adam7-interlaced RGB PNG of ``img`` (Pillow cannot write interlaced PNGs: built by hand)."""
    img = img.convert("RGB")
    width, height = img.size
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        if not xs:
            continue
        for y in range(y0, height, dy):
            raw.append(0)
            for x in xs:
                raw.extend(img.getpixel((x, y)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + _png_chunk(b"IEND", b""))


def png16_gray(value=0x8080, size=(64, 48)):
    """16-bit greyscale PNG, uniformly ``value`` (0..65535)."""
    row = struct.pack(">H", value) * size[0]
    return png_raw(size[0], size[1], 16, 0, [row] * size[1])


def png16_rgb(rgb16=(0xFFFF, 0x0000, 0x0000), size=(64, 48)):
    row = struct.pack(">HHH", *rgb16) * size[0]
    return png_raw(size[0], size[1], 16, 2, [row] * size[1])


def png16_rgba_half_transparent(size=(64, 48)):
    half = size[0] // 2
    row = struct.pack(">HHHH", 0xFFFF, 0, 0, 0xFFFF) * half + struct.pack(">HHHH", 0, 0, 0, 0) * (size[0] - half)
    return png_raw(size[0], size[1], 16, 6, [row] * size[1])


def animated(fmt, colours=(RED, BLUE, GREEN), size=(80, 60)):
    """An animation whose frames are solid ``colours``; the first frame is what counts."""
    frames = [Image.new("RGB", size, c) for c in colours]
    params = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    if fmt == "WEBP":
        params["lossless"] = True
    return encode(frames[0], fmt, **params)


def tiff_multipage(colours=(RED, BLUE), size=(80, 60)):
    frames = [Image.new("RGB", size, c) for c in colours]
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")


def webp(lossless=False, img=None):
    img = img if img is not None else photo_like((300, 400))
    return encode(img, "WEBP", lossless=lossless, quality=90)


def heic(img=None):
    import pillow_heif
    pillow_heif.register_heif_opener()
    img = img if img is not None else photo_like((300, 400))
    return encode(img, "HEIF", quality=90)


def avif(img=None):
    img = img if img is not None else photo_like((300, 400))
    return encode(img, "AVIF", quality=90)


# ----------------------------------------------------------------------------
# every accepted input kind, by name


def accepted_inputs():
    """name -> bytes, one of each input kind the pipeline accepts."""
    photo = photo_like((300, 400))
    gray = photo.convert("L")
    return {
        "jpeg-baseline": jpeg(photo),
        "jpeg-progressive": jpeg(photo, progressive=True),
        "jpeg-grayscale": jpeg(gray),
        "jpeg-cmyk-adobe": cmyk_jpeg(size=(300, 200)),
        "jpeg-cmyk-plain": cmyk_jpeg(size=(300, 200), adobe=False),
        "jpeg-cmyk-icc": cmyk_jpeg(size=(300, 200), icc=cmyk_profile()),
        "jpeg-ycck": ycck_jpeg(size=(300, 200)),
        "jpeg-exif-rotated": oriented(6),
        "jpeg-large-12mp": jpeg(photo.resize((4000, 3000)), quality=85),
        "png-rgb": encode(photo, "PNG"),
        "png-rgba": rgba_png(),
        "png-palette-transparent": palette_png_transparent(),
        "png-colour-key": colour_key_png(),
        "png-16bit-gray": png16_gray(),
        "png-16bit-rgb": png16_rgb(),
        "png-16bit-rgba": png16_rgba_half_transparent(),
        "png-gray-alpha": la_png(),
        "png-1bit": encode(gray.convert("1"), "PNG"),
        "gif": encode(photo.convert("P"), "GIF"),
        "gif-animated": animated("GIF"),
        "gif-transparent": palette_gif_transparent(),
        "bmp": encode(photo, "BMP"),
        "tiff": encode(photo, "TIFF"),
        "tiff-multipage": tiff_multipage(),
        "tiff-cmyk": encode(Image.new("CMYK", (90, 60), (0, 255, 255, 0)), "TIFF"),
        "webp-lossy": webp(),
        "webp-lossless": webp(lossless=True),
        "webp-animated": animated("WEBP"),
        "heic": heic(photo),
        "avif": avif(photo),
    }


# ----------------------------------------------------------------------------
# bad inputs


def png_bomb(width=12000, height=12000):
    """A real decompression bomb: a greyscale PNG of zeros, tiny on disk, 144 MP decoded."""
    comp = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    parts = [comp.compress(row) for dummy in range(height)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


def png_header_bomb(width=100000, height=100000):
    """A PNG whose header claims 10 gigapixels, followed by a token IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def gif_bomb():
    """A GIF with a 65535x65535 image descriptor."""
    data = encode(Image.new("P", (4, 4), 0), "GIF")
    # logical screen and the image descriptor sizes
    data = data[:6] + struct.pack("<HH", 65535, 65535) + data[10:]
    pos = data.index(b"\x2c")
    return data[:pos + 5] + struct.pack("<HH", 65535, 65535) + data[pos + 9:]


def jpeg_header_bomb(width=60000, height=60000):
    """A small JPEG whose frame header (SOF0) claims 3.6 gigapixels."""
    data = jpeg(Image.new("RGB", (16, 16), RED))

    def patch(marker, seg):
        if marker == 0xC0:
            return seg[:5] + struct.pack(">HH", height, width) + seg[9:]
        return seg
    return _jpeg_segments_replace(data, patch)


def _random_bytes(count, seed):
    rnd = random.Random(seed)
    return bytes(bytearray(rnd.randrange(256) for dummy in range(count)))


def truncated(data, keep=0.5):
    return data[:max(1, int(len(data) * keep))]


def bad_inputs():
    """name -> (bytes, substring the error message must contain)."""
    photo = photo_like((300, 400))
    jpg = jpeg(photo)
    png = encode(photo, "PNG")
    gif = encode(photo.convert("P"), "GIF")
    return {
        "empty": (b"", "empty (0 bytes)"),
        "html": (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>",
                 "looks like an HTML page (starts with '<!DOCTYPE html"),
        "html-lowercase-bom": (b"\xef\xbb\xbf  <html>\n<body>404 Not Found</body></html>", "HTML page"),
        "svg": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">'
                b'<circle cx="48" cy="48" r="40" fill="red"/></svg>',
                "SVG vector images are not supported; export a PNG or JPEG"),
        "svg-bare": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG vector images are not supported"),
        "pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", "PDF document, not an image"),
        "text": (b"hello, this is not a photo\n", "looks like text (starts with 'hello"),
        "json": (b'{"error": {"code": "ImageNotFound", "message": "no photo"}}', "looks like JSON"),
        "base64-jpeg": (__import__("base64").b64encode(jpg[:300]), "base64 text of a JPEG"),
        "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 96 96\n", "PostScript"),
        "zip": (b"PK\x03\x04" + b"\0" * 40, "ZIP archive"),
        "random-binary": (_random_bytes(2000, seed=7), "unrecognised data"),
        "jpeg-truncated": (truncated(jpg), "truncated JPEG"),
        "jpeg-header-only": (jpg[:200], "truncated JPEG"),
        "png-truncated": (truncated(png), "truncated PNG"),
        "gif-truncated": (truncated(gif, 0.4), "truncated GIF"),
        "png-bomb": (png_bomb(), "144000000 pixels, over the limit of 64000000"),
        "png-header-bomb": (png_header_bomb(), "10000000000 pixels"),
        "gif-bomb": (gif_bomb(), "4294836225 pixels"),
        "jpeg-header-bomb": (jpeg_header_bomb(), "3600000000 pixels"),
        "psd": (b"8BPS\x00\x01" + b"\0" * 60, "Photoshop PSD files are not supported"),
        "video-mp4": (struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2" + b"\0" * 40, "ISO media"),
    }


def metric_psnr(a, b):
    """PSNR in dB between two same-size RGB images (pure Python; small images only)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size
    total = 0
    count = 0
    for x, y in zip(bytearray(a.tobytes()), bytearray(b.tobytes())):
        total += (x - y) ** 2
        count += 1
    mse = total / float(count)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def jpeg_header_markers(data):
    """[(marker, payload)] of a JPEG's segments up to the first SOS (independent of the code under test)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    result = []
    pos = 2
    while pos + 4 <= len(data):
        assert data[pos] == 0xFF, "bad marker at %d" % pos
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        result.append((marker, data[pos + 4:pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return result


def add_segment(data, marker, payload):
    """Insert a segment right after SOI (and after APP0 JFIF when present)."""
    segment = bytes(bytearray([0xFF, marker])) + struct.pack(">H", len(payload) + 2) + payload
    pos = 2
    if data[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:pos] + segment + data[pos:]


def with_comment(data, text=b"Edited with corpus 1.0"):
    return add_segment(data, 0xFE, text)


def with_exif(data, orientation=None):
    return add_segment(data, 0xE1, b"Exif\x00\x00" + exif_bytes(orientation))


def with_xmp(data):
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'</rdf:RDF></x:xmpmeta>')
    return add_segment(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp)


def with_icc(data, icc):
    return add_segment(data, 0xE2, b"ICC_PROFILE\x00\x01\x01" + icc)
