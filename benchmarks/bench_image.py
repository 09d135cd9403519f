#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image pipeline benchmark: normalize() against a naive Pillow pipeline, in one run.

    "$PYTHON" benchmarks/bench_image.py [--repeat N]     (after ". tests/setup-env")

Naive = what most scripts do: Image.open, convert('RGB'), resize to the 96 px box
with LANCZOS from full resolution, save as JPEG with Pillow's defaults.  Both run on
the same generated photos in the same process; the benchmark prints times and their
ratio (naive / normalize, higher is better), never asserts on them.

Quality at 96 px: both outputs are decoded and compared with a reference
downscale of the same photo made at the best precision Pillow offers (full
decode, each channel resized in 32-bit float with LANCZOS, no intermediate
rounding).  PSNR (dB, higher is better) and a windowed SSIM (0..1, higher is better)
are printed for both.
"""

from __future__ import print_function

import argparse
import io
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "support"))


def _import_image_module():
    """Import _image as ansible_collections.photosync.ad.plugins.module_utils._image from this checkout."""
    parts = REPO.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "photosync"] and parts[-1] == "ad":
        root = os.sep.join(parts[:-3])
    else:
        import tempfile
        root = tempfile.mkdtemp(prefix="photosync-bench-")
        os.makedirs(os.path.join(root, "ansible_collections", "photosync"))
        os.symlink(REPO, os.path.join(root, "ansible_collections", "photosync", "ad"))
    sys.path.insert(0, root)
    from ansible_collections.photosync.ad.plugins.module_utils import _image
    return _image


_image = _import_image_module()
from PIL import Image  # noqa: E402  (after the path set-up)
import imagecorpus  # noqa: E402


def naive(data, box=96, **save_params):
    img = Image.open(io.BytesIO(data))
    img = img.convert("RGB")
    scale = float(box) / max(img.size)
    size = (max(1, int(round(img.size[0] * scale))), max(1, int(round(img.size[1] * scale))))
    img = img.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", **save_params)
    return out.getvalue()


def naive_same_encoding(data):
    """Naive resampling with normalize's encoder settings: separates resampling from encoding."""
    return naive(data, quality=90, subsampling=0, optimize=True)


def reference(data, size):
    img = Image.open(io.BytesIO(data))
    img = img.convert("RGB")
    bands = [band.convert("F").resize(size, Image.Resampling.LANCZOS) for band in img.split()]
    return list(bands)


def _float_band(img, index):
    return img.convert("RGB").split()[index].convert("F")


def _values(band):
    width, height = band.size
    return [band.getpixel((x, y)) for y in range(height) for x in range(width)]


def psnr(candidate, ref_bands):
    total = 0.0
    count = 0
    for i, ref in enumerate(ref_bands):
        for a, b in zip(_values(_float_band(candidate, i)), _values(ref)):
            b = min(255.0, max(0.0, b))
            total += (a - b) ** 2
            count += 1
    mse = total / count
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def ssim(candidate, ref_bands, window=7):
    """Mean SSIM over the three channels with a uniform window (Wang et al. constants)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for i, ref in enumerate(ref_bands):
        a = _values(_float_band(candidate, i))
        b = [min(255.0, max(0.0, v)) for v in _values(ref)]
        width, height = ref.size
        for y0 in range(0, height - window + 1, 2):
            for x0 in range(0, width - window + 1, 2):
                xs = []
                ys = []
                for y in range(y0, y0 + window):
                    row = y * width
                    xs.extend(a[row + x0:row + x0 + window])
                    ys.extend(b[row + x0:row + x0 + window])
                n = float(len(xs))
                mx, my = sum(xs) / n, sum(ys) / n
                vx = sum((v - mx) ** 2 for v in xs) / n
                vy = sum((v - my) ** 2 for v in ys) / n
                cov = sum((p - mx) * (q - my) for p, q in zip(xs, ys)) / n
                scores.append(((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
    return sum(scores) / len(scores)


def best_time(fn, repeat):
    """Best of ``repeat`` runs (least disturbed by the other users of a shared machine), and the median."""
    times = []
    for dummy in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def make_photo(size, seed, grain=18):
    # a photo-like picture, saved as a camera would (quality 92, 4:2:0)
    return imagecorpus.jpeg(imagecorpus.photo_like(size, seed=seed, grain=grain), quality=92)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per pipeline and photo (default 7)")
    args = parser.parse_args()

    import PIL
    print("Pillow %s, Python %s" % (PIL.__version__, sys.version.split()[0]))
    profile = _image.ImageProfile()
    cases = [("12 MP JPEG (4000x3000)", make_photo((4000, 3000), 11)),
             ("12 MP JPEG, heavy grain", make_photo((4000, 3000), 13, grain=80)),
             ("typical JPEG (600x800)", make_photo((600, 800), 12))]

    print()
    print("%-24s %9s %12s %12s %8s" % ("photo", "bytes", "naive ms", "normalize ms", "ratio"))
    results = []
    for label, data in cases:
        naive(data)
        _image.normalize(data, profile)  # warm caches (plugin registry, sRGB profile)
        naive_best, naive_median = best_time(lambda: naive(data), args.repeat)
        ours_best, ours_median = best_time(lambda: _image.normalize(data, profile), args.repeat)
        ratio = naive_best / ours_best
        print("%-24s %9d %12.1f %12.1f %7.1fx   (medians %.1f / %.1f ms: %.1fx)" % (
            label, len(data), naive_best * 1000, ours_best * 1000, ratio,
            naive_median * 1000, ours_median * 1000, naive_median / ours_median))
        results.append((label, data))

    print()
    print("Quality at 96 px against a float LANCZOS reference of the full-resolution photo")
    print("%-24s %-10s %7s %9s %7s %8s" % ("photo", "pipeline", "bytes", "PSNR dB", "SSIM", "size"))
    for label, data in results:
        ours = _image.normalize(data, profile).data
        theirs = naive(data)
        ours_img = Image.open(io.BytesIO(ours))
        theirs_img = Image.open(io.BytesIO(theirs))
        assert ours_img.size == theirs_img.size, (ours_img.size, theirs_img.size)
        ref = reference(data, ours_img.size)
        same = naive_same_encoding(data)
        rows = (("naive", theirs, theirs_img), ("normalize", ours, ours_img),
                ("naive-q90*", same, Image.open(io.BytesIO(same))))
        for name, blob, img in rows:
            print("%-24s %-10s %7d %9.2f %7.4f %8s" % (
                label, name, len(blob), psnr(img, ref), ssim(img, ref), "%dx%d" % img.size))
    print()
    print("ratio = naive time / normalize time (best of %d runs each; higher is better)." % args.repeat)
    print("* naive-q90: the naive full-resolution LANCZOS resize saved with normalize's encoder settings")
    print("  (quality 90, 4:4:4, optimized); not timed, shown to separate resampling from encoding.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
