#!/usr/bin/env python
"""Write the photo files the integration targets use into a folder (Pillow, deterministic).

    python make_photos.py OUTDIR

portrait.jpg          600x800 photo-like JPEG (must be processed: too big for the profile)
portrait-comment.jpg  the same JPEG with a COM comment segment inserted (only metadata differs)
portrait-exif.jpg     the same JPEG with an EXIF block without orientation inserted
compliant.jpg         a 96x72 baseline JPEG under 10 KB (already meets the default profile)
compliant-comment.jpg compliant.jpg plus a COM comment
other.png             a different picture, RGBA with transparency
page.html             an HTML error page, as a misconfigured server would send
"""

import io
import os
import struct
import sys

from PIL import Image, ImageDraw


def picture(width, height, hue):
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        draw.rectangle([0, y, width, y + 3], fill=((y * 255) // height, hue, 255 - (y * 255) // height))
    draw.ellipse([width // 4, height // 5, 3 * width // 4, 3 * height // 5], fill=(240, 200, 170))
    draw.rectangle([width // 3, 2 * height // 3, 2 * width // 3, height - 1], fill=(30, 60, 120))
    return image


def jpeg(image, **options):
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def insert_after_soi(data, segment):
    assert data[:2] == b"\xff\xd8"
    return data[:2] + segment + data[2:]


def com_segment(text):
    payload = text.encode("ascii")
    return b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload


def exif_segment_without_orientation():
    exif = Image.Exif()
    exif[0x010F] = "PhotoSync Test Camera"  # Make
    exif[0x0131] = "make_photos.py"  # Software
    payload = b"Exif\x00\x00" + exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    portrait = jpeg(picture(600, 800, 90), quality=92)
    compliant = jpeg(picture(96, 72, 160), quality=80, optimize=False, progressive=False)
    assert len(compliant) < 10240
    rgba = picture(300, 300, 20).convert("RGBA")
    rgba.putalpha(Image.new("L", (300, 300), 0).point(lambda _: 255))
    ImageDraw.Draw(rgba).rectangle([0, 0, 80, 80], fill=(0, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    files = {
        "portrait.jpg": portrait,
        "portrait-comment.jpg": insert_after_soi(portrait, com_segment("edited by a photo tool")),
        "portrait-exif.jpg": insert_after_soi(portrait, exif_segment_without_orientation()),
        "compliant.jpg": compliant,
        "compliant-comment.jpg": insert_after_soi(compliant, com_segment("kept as is")),
        "other.png": out.getvalue(),
        "page.html": b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n",
    }
    for name, data in files.items():
        with open(os.path.join(outdir, name), "wb") as handle:
            handle.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
