# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local photo sources: one file, a folder of per-person files, inline content, a backup.

Every source follows the protocol in ``_sources``: ``describe()``, ``normalize``,
``fetch(person) -> SourcePhoto | None`` (raises a ``_errors.PhotoSyncError`` on
failure) and ``prefetch(people)`` (lazy: yields ``(person, SourcePhoto | None |
PhotoSyncError)``).

Files are read safely: only regular files (a device such as ``/dev/zero``, a FIFO or
a folder is refused before anything is read), at most ``max_bytes`` bytes (the
size is checked on the open file, then at most one byte more than the limit is
read).  The folder source builds file names from directory values, which someone
else controls: a value that would make an unsafe name (``..``, separators, NUL and
other control characters, reserved device names, names over 255 bytes) is refused,
and no file outside the folder is ever read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno
import hashlib
import json
import os
import re
import stat
import string

from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto

# Default size limit of a photo file (path, restore_from, photo_dir): like url_max_bytes.
DEFAULT_FILE_MAX_BYTES = 20 * 1024 * 1024
# A backup sidecar is a few hundred bytes of JSON.
_SIDECAR_MAX_BYTES = 64 * 1024

# What a trailing ".*" in a name template matches, in order of preference: when a
# person has both alice.jpg and alice.png, alice.jpg is taken (deterministically).
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "bmp", "heic", "heif", "avif")

# Template fields and the DirectoryUser field each one reads (LDAP attribute names).
_USER_FIELDS = {
    "samaccountname": "sam_account_name",
    "userprincipalname": "user_principal_name",
    "mail": "mail",
    "objectguid": "object_guid",
    "objectsid": "object_sid",
    "displayname": "display_name",
    "distinguishedname": "dn",
    "dn": "dn",
}

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
_NAME_MAX = 255  # bytes, the usual file system limit for one name
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def _name(user):
    if user is None:
        return None
    return user.sam_account_name or user.dn


# ----------------------------------------------------------------------------
# reading one file safely


def _kind_of(mode):
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_regular_file(path, max_bytes, what="photo file", user=None, option="file_max_bytes", follow=True):
    """(bytes, os.stat_result) of the regular file ``path``, at most ``max_bytes`` long.

    Raises SourceError when the file is missing, unreadable, not a regular file or too large.
    The checks run on the opened file descriptor, so the file checked is the file read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (IOError, OSError) as exc:
        raise _missing_file_error(path, exc, what, user)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _errors.SourceError(
                "refusing to read the %s %s: it is %s, not a regular file" % (what, path, _kind_of(info.st_mode)),
                user=user, hint="Give the path of an image file")
        if info.st_size > max_bytes:
            raise _errors.SourceError(
                "the %s %s has %d bytes, more than %s (%d bytes)" % (what, path, info.st_size, option, max_bytes),
                user=user, hint="Use a smaller photo or raise %s" % option)
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1024 * 1024, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except (IOError, OSError) as exc:
        raise _errors.SourceError("cannot read the %s %s: %s" % (what, path, exc.strerror or exc), user=user)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while being read
        raise _errors.SourceError("the %s %s is larger than %s (%d bytes)" % (what, path, option, max_bytes),
                                  user=user, hint="Use a smaller photo or raise %s" % option)
    return data, info


def _missing_file_error(path, exc, what, user):
    resolved = os.path.abspath(path)
    where = path if resolved == path else "%s (resolved to %s)" % (path, resolved)
    reason = exc.strerror or str(exc)
    hint = None
    if getattr(exc, "errno", None) == errno.ENOENT:
        hint = ("The file is read on the host that runs the module. A relative path is resolved there: "
                "with a local connection (for example delegate_to: localhost) against the playbook's directory, "
                "on a remote host against the remote user's home directory. A file on the controller needs "
                "delegate_to: localhost")
    elif getattr(exc, "errno", None) == errno.ELOOP:
        reason = "it is a symbolic link, which is not followed here"
    return _errors.SourceError("cannot read the %s %s: %s" % (what, where, reason), user=user, hint=hint)


def _version(data, info):
    """Change token of a file: size, modification time (ns) and the start of the SHA-256."""
    mtime_ns = getattr(info, "st_mtime_ns", int(info.st_mtime * 1e9))
    return "%d-%d-%s" % (len(data), mtime_ns, hashlib.sha256(data).hexdigest()[:16])


class _SourceBase(object):
    normalize = True

    def describe(self):  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def fetch(self, user=None):  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def prefetch(self, people):
        """Lazily (person, SourcePhoto | None | PhotoSyncError) for each person, in the order given."""
        for person in people:
            try:
                yield person, self.fetch(person)
            except _errors.PhotoSyncError as exc:
                yield person, exc


# ----------------------------------------------------------------------------
# the sources


class FileSource(_SourceBase):
    """One photo file (``path``): the same file for whoever the task names."""

    def __init__(self, path, max_bytes=DEFAULT_FILE_MAX_BYTES):
        self.path = path
        self.max_bytes = _check_max_bytes(max_bytes)

    def describe(self):
        return "file %s" % self.path

    def fetch(self, user=None):
        data, info = read_regular_file(self.path, self.max_bytes, user=_name(user))
        return SourcePhoto(data, _version(data, info), self.path, None)


class ContentSource(_SourceBase):
    """The photo given inline, base64-encoded (``content``)."""

    def __init__(self, content):
        self.content = content

    def describe(self):
        return "inline content"

    def fetch(self, user=None):
        try:
            data = base64.b64decode("".join(self.content.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _errors.SourceError(
                "content is not valid base64: %s" % exc, user=_name(user),
                hint="content takes the photo's bytes base64-encoded, for example the content that "
                     "ansible.builtin.slurp returns, or \"{{ lookup('ansible.builtin.file', 'alice.jpg', "
                     "rstrip=false) | b64encode }}\" for a file on the controller (rstrip=false keeps "
                     "trailing bytes that look like whitespace). For a file, path is simpler")
        return SourcePhoto(data, hashlib.sha256(data).hexdigest(), "content", None)


class BackupSource(_SourceBase):
    """A backup written by this collection (the data file or its ``.json`` sidecar), restored byte for byte.

    Only what a backup wrote is restored: the sidecar must be there and match the file
    (SHA-256 and size) and the attribute being restored, and the bytes must be an image
    the pipeline reads.  ``foreign=True`` (the option ``restore_foreign``) says the file
    is not such a backup: no sidecar is needed, but the bytes must still be an image.
    """

    normalize = False  # restore byte for byte what the directory held

    def __init__(self, path, attribute="thumbnailPhoto", foreign=False, max_bytes=DEFAULT_FILE_MAX_BYTES):
        self.path = path
        self.attribute = attribute
        self.foreign = bool(foreign)
        self.max_bytes = _check_max_bytes(max_bytes)
        self.sidecar = None  # set by fetch(): whose value the backup was, for a warning on mismatch

    def describe(self):
        return "%s %s" % ("foreign file" if self.foreign else "backup", self.path)

    def fetch(self, user=None):
        from ansible_collections.photosync.ad.plugins.module_utils import _backup  # avoid an import cycle
        who = _name(user)
        backup = _backup.read_backup(self.path, user=who, max_bytes=self.max_bytes, require_sidecar=not self.foreign)
        if backup.sidecar is not None and not self.foreign:
            _backup.check_sidecar(backup, self.attribute, user=who)
        _check_is_image(backup.data, backup.data_path, who, self.foreign)
        self.sidecar = backup.sidecar if not self.foreign else None
        return SourcePhoto(backup.data, backup.sha256, backup.data_path, None)


def _check_is_image(data, path, user, foreign):
    from ansible_collections.photosync.ad.plugins.module_utils import _image  # Pillow is only needed here
    if not _image.HAS_PIL:
        raise _errors.ConfigurationError("restoring a photo needs Pillow to check it is an image (pip install Pillow)")
    try:
        _image.describe(data)
    except _errors.ImageError as exc:
        raise _errors.BackupError(
            "refusing to restore %s: it is not an image the pipeline reads (%s)" % (path, exc.message), user=user,
            hint=None if foreign else "A backup of a value that was not an image cannot be restored")


def _check_max_bytes(value):
    if value is None:
        return DEFAULT_FILE_MAX_BYTES
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _errors.ConfigurationError("file_max_bytes must be a positive number of bytes, got %r" % (value,))
    return value


# ----------------------------------------------------------------------------
# a folder of per-person files


class _Template(object):
    """One name template: literal text and {Field}s, optionally ending in '.*' (any image extension)."""

    def __init__(self, text):
        if not isinstance(text, str) or not text.strip():
            raise _errors.ConfigurationError("a photo name template must be a non-empty string, got %r" % (text,))
        self.text = text
        self.any_extension = text.endswith(".*")
        body = text[:-2] if self.any_extension else text
        self.parts = []
        try:
            parsed = list(string.Formatter().parse(body))
        except ValueError as exc:
            raise _errors.ConfigurationError("bad photo name template %r: %s" % (text, exc))
        for literal, field, spec, conversion in parsed:
            if "*" in literal or _UNSAFE_CHARS.search(literal):
                raise _errors.ConfigurationError(
                    "bad photo name template %r: only one file name (no '/', '\\' or control characters), and '*' "
                    "only as a final '.*' (any image extension)" % text)
            if literal:
                self.parts.append((True, literal))
            if field is None:
                continue
            if not _FIELD.match(field) or spec or conversion:
                raise _errors.ConfigurationError(
                    "bad photo name template %r: {%s} is not a plain attribute name such as {sAMAccountName}"
                    % (text, field))
            self.parts.append((False, field))
        self.fields = [value for is_literal, value in self.parts if not is_literal]
        if not self.fields:
            raise _errors.ConfigurationError(
                "the photo name template %r has no {field}, so every person would get the same file" % text)

    def render(self, person):
        """The file name (without the extension for '.*') for ``person``; None if a field is empty.

        Raises SourceError when a value would make an unsafe name.
        """
        out = []
        for is_literal, value in self.parts:
            if is_literal:
                out.append(value)
                continue
            field_value = person_value(person, value)
            if field_value is None or field_value == "":
                return None
            out.append(field_value)
        name = "".join(out)
        problem = unsafe_name_reason(name + (".jpg" if self.any_extension else ""))
        if problem:
            raise _errors.SourceError(
                "refusing the photo file name %r from template %r: %s" % (name, self.text, problem),
                user=_name(person),
                hint="The directory value used in the name cannot be a file name; nothing is read for this person")
        return name


def person_value(person, field):
    """The value of the LDAP attribute ``field`` (case-insensitive) for ``person`` as text, or None."""
    key = field.lower()
    if key in _USER_FIELDS:
        value = getattr(person, _USER_FIELDS[key], None)
    else:
        extra = getattr(person, "attributes", None) or {}
        value = None
        for name, candidate in extra.items():
            if name.lower() == key:
                value = candidate
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None  # a multi-valued attribute names no single file
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(value)


def unsafe_name_reason(name):
    """Why ``name`` is not one safe file name inside a folder, or None when it is."""
    if not name:
        return "empty"
    if "\x00" in name:
        return "it contains a NUL character"
    if _UNSAFE_CHARS.search(name):
        return "it contains a path separator or a control character"
    if name in (".", "..") or name.startswith("."):
        return "it starts with a dot ('..' or a hidden file)"
    if _RESERVED.match(name):
        return "it is a reserved device name on Windows"
    if name != name.strip() or name.endswith("."):
        return "it starts or ends with a space, or ends with a dot"
    if len(name.encode("utf-8", "surrogatepass")) > _NAME_MAX:
        return "it is longer than %d bytes" % _NAME_MAX
    return None


def _extension(name):
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


class FolderSource(_SourceBase):
    """Per-person photo files in one folder, found by name templates tried in order.

    ``name_templates``: for example ``["{sAMAccountName}.jpg", "{userPrincipalName}.*",
    "{mail}.*", "{employeeID}.*"]``; fields are LDAP attribute names (see
    ``attributes()``), a trailing ``.*`` matches any image extension (IMAGE_EXTENSIONS,
    in that order of preference).  Names match case-insensitively when no file has the
    exact name.  ``SourcePhoto.origin`` is the file's real path: two people whose
    templates find the same file share an origin (ambiguous).
    """

    def __init__(self, photo_dir, name_templates, max_bytes=DEFAULT_FILE_MAX_BYTES):
        if not photo_dir or not isinstance(photo_dir, str):
            raise _errors.ConfigurationError("photo_dir must be the path of a folder, got %r" % (photo_dir,))
        if isinstance(name_templates, str):
            name_templates = [name_templates]
        if not name_templates:
            raise _errors.ConfigurationError("photo_name_templates needs at least one template")
        self.templates = [_Template(text) for text in name_templates]
        self.max_bytes = _check_max_bytes(max_bytes)
        self.photo_dir = photo_dir
        if not os.path.isdir(photo_dir):
            exc = _errors.ConfigurationError(
                "photo_dir %s is not a folder" % os.path.abspath(photo_dir),
                hint="It is read on the host that runs the module; a relative path resolves there "
                     "(with a local connection, against the playbook's directory)")
            raise exc
        self.root = os.path.realpath(photo_dir)
        self._index = None

    def describe(self):
        return "folder %s (%s)" % (self.photo_dir, ", ".join(t.text for t in self.templates))

    def attributes(self):
        """The LDAP attributes the templates use (for the directory search)."""
        seen = []
        for template in self.templates:
            for field in template.fields:
                if field.lower() not in [s.lower() for s in seen]:
                    seen.append(field)
        return seen

    def _listing(self):
        """{lower-case name: [names]} of the folder's entries, read once."""
        if self._index is None:
            try:
                names = os.listdir(self.root)
            except (IOError, OSError) as exc:
                error = _errors.SourceError("cannot list photo_dir %s: %s" % (self.root, exc.strerror or exc))
                error.run_wide = True
                raise error
            index = {}
            for entry in sorted(names):
                index.setdefault(entry.lower(), []).append(entry)
            self._index = index
        return self._index

    def _lookup(self, name):
        """The entry named ``name``: exact case first, else the first case-insensitive match (sorted)."""
        candidates = self._listing().get(name.lower())
        if not candidates:
            return None
        return name if name in candidates else candidates[0]

    def _inside(self, entry):
        """The real path of ``entry`` if it stays inside the folder, else None."""
        path = os.path.join(self.root, entry)
        if os.sep not in entry and entry not in (os.curdir, os.pardir) and not os.path.islink(path):
            return path  # one name in the (real) folder, not a link: already real (one lstat, not one per part)
        path = os.path.realpath(path)
        if os.path.dirname(path) != self.root and not path.startswith(self.root + os.sep):
            return None
        return path

    def find(self, person):
        """(entry name, real path) of the person's file, or None; SourceError for unsafe values."""
        refused = None
        for template in self.templates:
            try:
                stem = template.render(person)
            except _errors.SourceError as exc:
                refused = refused or exc
                continue
            if stem is None:
                continue
            names = ["%s.%s" % (stem, ext) for ext in IMAGE_EXTENSIONS] if template.any_extension else [stem]
            for name in names:
                entry = self._lookup(name)
                if entry is None:
                    continue
                path = self._inside(entry)
                if path is None:
                    raise _errors.SourceError(
                        "refusing %s in photo_dir: it is a link to a file outside %s" % (entry, self.root),
                        user=_name(person))
                return entry, path
        if refused is not None:
            raise refused
        return None

    def fetch(self, user=None):
        found = self.find(user)
        if found is None:
            return None
        entry, path = found
        data, info = read_regular_file(path, self.max_bytes, user=_name(user))
        return SourcePhoto(data, _version(data, info), path, None)

    def probe(self, user):
        """(path, version) without reading the file, for change tracking: version is the size and the
        modification time in nanoseconds; (None, None) when the person has no file."""
        found = self.find(user)
        if found is None:
            return None, None
        path = found[1]
        try:
            info = os.stat(path)
        except OSError:
            return path, None
        return path, "file:%d:%d" % (info.st_size, info.st_mtime_ns)

    def list_keys(self):
        """Real paths of the image files in the folder (regular, not hidden, an image extension), sorted.

        The same form as ``SourcePhoto.origin``, so a sync can report the files that match nobody.
        """
        keys = set()
        for entries in self._listing().values():
            for entry in entries:
                if entry.startswith(".") or _extension(entry) not in IMAGE_EXTENSIONS:
                    continue
                path = self._inside(entry)
                if path is not None and os.path.isfile(path):
                    keys.add(path)
        return sorted(keys)


def build_folder_source(params):
    """The FolderSource for module params ``photo_dir``, ``photo_name_templates`` and ``file_max_bytes``
    (the bulk sync's option names), or None when ``photo_dir`` is not given."""
    if not params.get("photo_dir"):
        return None
    templates = params.get("photo_name_templates") or ["{sAMAccountName}.*"]
    return FolderSource(params["photo_dir"], templates, max_bytes=params.get("file_max_bytes"))


def read_json_file(path, user=None, what="backup sidecar"):
    """A small JSON file (at most 64 KiB), as a dict; SourceError/BackupError on failure."""
    data, _info = read_regular_file(path, _SIDECAR_MAX_BYTES, what=what, user=user, option="the sidecar limit")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _errors.BackupError("cannot read the %s %s: %s" % (what, path, exc), user=user)
    if not isinstance(value, dict):
        raise _errors.BackupError("the %s %s is not a JSON object" % (what, path), user=user)
    return value
