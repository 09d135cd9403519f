# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The image options.  Paired one-to-one with the spec factory
    # image_argument_spec() in plugins/module_utils/_image.py: change both together.
    # Use with `extends_documentation_fragment: [photosync.ad.image]`.

    DOCUMENTATION = r"""
options:
  max_dimension:
    description:
      - Largest width and height of the stored photo, in pixels.
      - With O(fit=contain) the photo keeps its aspect ratio inside a square box of this size,
        for example a 600x800 portrait becomes 72x96.
      - Photos are never enlarged; a 50x40 image stays 50x40.
      - Microsoft recommends 96 for C(thumbnailPhoto).
    type: int
    default: 96
  max_bytes:
    description:
      - Largest size of the stored photo in bytes, between 1 and 102400 (the C(thumbnailPhoto) limit).
      - The JPEG quality is lowered, down to O(min_quality), until the photo fits; if even that is too
        big, the photo is scaled down further until it fits.
      - The default 10240 is the largest photo Exchange Online still picks up.
    type: int
    default: 10240
  fit:
    description:
      - How a photo that is not square is fitted into the O(max_dimension) box.
      - V(contain) keeps the whole picture and its aspect ratio (600x800 gives 72x96), like SharePoint does.
      - V(cover) crops the middle square and scales it (600x800 gives 96x96, 100 pixels cut at top and bottom
        before scaling).
      - V(pad) keeps the whole picture and adds bars of O(background) to make it square (600x800 gives 96x96
        with 12-pixel bars left and right).
    type: str
    choices: [contain, cover, pad]
    default: contain
  background:
    description:
      - Colour that transparent areas (PNG, GIF, WebP alpha) are flattened onto, and of the bars added by
        O(fit=pad).
      - Any colour Pillow understands, for example V(#FFFFFF), V(white), V(rgb(240, 240, 240\)).
        An alpha part of the colour is ignored.
    type: str
    default: '#FFFFFF'
  min_quality:
    description:
      - Lowest JPEG quality (1-95) tried to fit O(max_bytes) before the photo is scaled down instead.
    type: int
    default: 40
  max_quality:
    description:
      - Highest JPEG quality (1-95) used; the highest quality that fits O(max_bytes) is chosen.
      - Must not be lower than O(min_quality).
    type: int
    default: 90
  max_pixels:
    description:
      - Images whose header declares more pixels than this are refused before decoding, as possible
        decompression bombs. 64000000 allows photos from any current camera.
      - Decoding needs up to about 4 bytes per pixel (JPEG photos much less, they are decoded at reduced scale).
    type: int
    default: 64000000
notes:
  - Photos are stored as baseline JPEG without EXIF, ICC profile or comments; EXIF orientation is applied
    and embedded colour profiles are converted to sRGB. A JPEG that already meets the options is kept
    as it is, apart from its metadata, which is dropped without re-encoding. See the collection's
    C(docs/images.md).
requirements:
  - Pillow
  - pillow-heif (only for HEIC photos)
"""
