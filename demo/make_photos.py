#!/usr/bin/env python
"""Write the demo's folder of photos: one portrait per person, named <sAMAccountName>.jpg.

    python demo/make_photos.py OUTDIR NAME [NAME ...]

Deterministic (the same name always gives the same picture), so a second demo run finds every
photo already in place. The pictures are 300x400 JPEGs, larger than a thumbnailPhoto may be: the
collection scales and compresses them to the 96x96, at most 10 KB, profile on the way in.
"""

import hashlib
import os
import sys

from PIL import Image, ImageDraw


def portrait(name):
    seed = hashlib.sha256(name.encode("utf-8")).digest()
    background = (seed[0] // 2 + 64, seed[1] // 2 + 64, seed[2] // 2 + 64)
    skin = (200 + seed[3] % 50, 160 + seed[4] % 60, 130 + seed[5] % 60)
    shirt = (seed[6], seed[7], seed[8])
    image = Image.new("RGB", (300, 400), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 300, 260, 399], fill=shirt)          # shoulders
    draw.ellipse([85, 90, 215, 250], fill=skin)              # face
    draw.ellipse([80, 70, 220, 150], fill=(seed[9] // 3, seed[10] // 4, seed[11] // 5))  # hair
    draw.ellipse([115, 160, 135, 175], fill=(40, 40, 40))    # eyes
    draw.ellipse([165, 160, 185, 175], fill=(40, 40, 40))
    draw.arc([120, 190, 180, 225], 20, 160, fill=(120, 40, 40), width=4)
    draw.text((12, 12), name, fill=(255, 255, 255))
    return image


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    outdir, names = argv[0], argv[1:]
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        path = os.path.join(outdir, "%s.jpg" % name)
        portrait(name).save(path, "JPEG", quality=90)
    print("make_photos: %d photos in %s" % (len(names), outdir))


if __name__ == "__main__":
    main(sys.argv[1:])
