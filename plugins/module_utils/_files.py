# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files named from directory values: safe names and atomic writes.

Directory values are data someone else controls (a cn of ``../../etc/x`` is
legal), so every file name built from them goes through ``safe_path``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import string
import tempfile

from ansible_collections.photosync.ad.plugins.module_utils import _errors

_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")
_LEADING_DOTS = re.compile(r"^\.+")


class _Blank(dict):
    """Template fields that a user does not have render as empty text, not a KeyError."""

    def __missing__(self, key):
        return ""


def render_name(template, values):
    """Fill ``template`` (str.format fields such as {sAMAccountName}) and make the result one safe file name."""
    fields = [part[1] for part in string.Formatter().parse(template) if part[1]]
    if not fields:
        raise _errors.ConfigurationError(
            "the file name template %r has no {field}, so every user would get the same file" % template)
    try:
        name = template.format_map(_Blank((k, _safe_part(v)) for k, v in values.items()))
    except (ValueError, IndexError, AttributeError) as exc:
        raise _errors.ConfigurationError("bad file name template %r: %s" % (template, exc))
    name = _safe_part(name.strip()) or "_"
    return name[:200]


def _safe_part(value):
    """No separators or control characters, and no leading dot (no '..', no hidden files)."""
    if value is None:
        return ""
    text = _UNSAFE.sub("_", str(value))
    return _LEADING_DOTS.sub(lambda m: "_" * len(m.group(0)), text)


def safe_path(directory, name):
    """``directory/name``, refusing anything that would land outside ``directory``."""
    root = os.path.realpath(directory)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root:
        raise _errors.ConfigurationError("refusing file name %r: it would be written outside %s" % (name, root))
    return path


def atomic_write(path, data, mode=0o644):
    """Write ``data`` so readers see the old file or the whole new one, never half of it."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
