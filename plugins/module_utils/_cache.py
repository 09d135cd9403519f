# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalization cache: an unchanged source photo is not decoded and resized again.

Key: sha256 of the source bytes + the image profile's fingerprint + the Pillow version
(normalization is deterministic for one Pillow version, not across versions).  One file
per entry in ``cache_dir``::

    PSNC1\\n{"key": ..., "sha256": <of the payload>, "bytes": n, "width", "height", "format"}\\n<payload>

An entry is used only if its header names the key asked for and the payload's length and
sha256 match the header: a damaged, truncated or foreign entry is ignored (and removed),
and the photo is normalized again.  The directory is created owner-only (0700), entries are
written to a temporary name and renamed (no reader sees half an entry).  Size is bounded
(least recently used first, by file mtime; a hit refreshes the mtime).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import tempfile

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _image

try:
    import PIL
    PILLOW_VERSION = PIL.__version__
except ImportError:  # pragma: no cover - exercised by the sanity import test
    PILLOW_VERSION = None

MAGIC = b"PSNC1\n"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_SUFFIX = ".psnc"


def cache_key(source_data, profile):
    """The cache key of ``source_data`` normalized with ``profile`` by this Pillow."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(source_data).digest())
    digest.update(("|%s|%s" % (profile.fingerprint, PILLOW_VERSION)).encode("ascii"))
    return digest.hexdigest()


class NormalizeCache(object):
    """``get``/``put``/``normalize`` over a folder.  Building one does no I/O."""

    def __init__(self, cache_dir, profile, max_bytes=DEFAULT_MAX_BYTES):
        self.cache_dir = cache_dir
        self.profile = profile
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self.rejected = 0
        self._ready = False

    def key(self, source_data):
        return cache_key(source_data, self.profile)

    def _path(self, key):
        return os.path.join(self.cache_dir, key + _SUFFIX)

    def _ensure(self):
        if self._ready:
            return
        try:
            os.makedirs(self.cache_dir, 0o700)
        except OSError:
            if not os.path.isdir(self.cache_dir):
                raise _errors.ConfigurationError("cannot create cache_dir %s" % self.cache_dir,
                                                 hint="Give a folder the module may write, or leave cache_dir out")
        self._ready = True

    def get(self, key):
        """The cached ``_image.Photo`` for ``key``, or None (missing, damaged or foreign)."""
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                blob = handle.read()
        except (IOError, OSError):
            self.misses += 1
            return None
        photo = _parse(blob, key)
        if photo is None:
            self.rejected += 1
            self.misses += 1
            _unlink(path)
            return None
        try:
            os.utime(path, None)  # least recently used goes first when pruning
        except OSError:
            pass
        self.hits += 1
        return photo

    def put(self, key, photo):
        """Store ``photo`` (an ``_image.Photo``) under ``key``; failures to write are not errors."""
        self._ensure()
        header = json.dumps(dict(key=key, sha256=hashlib.sha256(photo.data).hexdigest(), bytes=len(photo.data),
                                 width=photo.width, height=photo.height, format=photo.format),
                            sort_keys=True).encode("ascii")
        try:
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-", suffix=".part")
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + header + b"\n" + photo.data)
            os.chmod(tmp, 0o600)
            os.rename(tmp, self._path(key))
            return True
        except (IOError, OSError):
            _unlink(tmp)
            return False

    def normalize(self, source_data):
        """``_image.normalize(source_data, profile)``, from the cache when possible."""
        key = self.key(source_data)
        photo = self.get(key)
        if photo is None:
            photo = _image.normalize(source_data, self.profile)
            self.put(key, photo)
        return photo

    def prune(self):
        """Remove least recently used entries until the folder is within ``max_bytes``; returns how many."""
        if not os.path.isdir(self.cache_dir):
            return 0
        entries, total = [], 0
        for name in os.listdir(self.cache_dir):
            path = os.path.join(self.cache_dir, name)
            if not (name.endswith(_SUFFIX) or name.startswith(".tmp-")):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            entries.append((st.st_mtime, path, st.st_size))
            total += st.st_size
        removed = 0
        entries.sort()
        for dummy, path, size in entries:
            if total <= self.max_bytes:
                break
            _unlink(path)
            total -= size
            removed += 1
        return removed

    def stats(self):
        return dict(hits=self.hits, misses=self.misses, rejected=self.rejected)


def _parse(blob, key):
    if not blob.startswith(MAGIC):
        return None
    end = blob.find(b"\n", len(MAGIC))
    if end < 0:
        return None
    try:
        header = json.loads(blob[len(MAGIC):end].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    payload = blob[end + 1:]
    if not isinstance(header, dict) or header.get("key") != key or header.get("bytes") != len(payload):
        return None
    digest = hashlib.sha256(payload).hexdigest()
    if header.get("sha256") != digest:
        return None
    return _image.Photo(payload, digest, header.get("width"), header.get("height"), header.get("format"))


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
