# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups of photo values before they are replaced or removed, and reading them back.

A backup is two files in ``backup_dir``: the value exactly as the directory held
it, and a JSON sidecar beside it (same name + ``.json``) saying whose value it
was, its SHA-256 and what replaced it.  The data file is written first and the
sidecar last, both atomically, so a sidecar always describes a complete file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
from collections import namedtuple

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files, _source_file

BACKUP_FORMAT = 1

Backup = namedtuple("Backup", ["data", "sha256", "data_path", "sidecar_path", "sidecar"])


def _utc_now():
    return datetime.datetime.utcnow().replace(microsecond=0)


def write_backup(backup_dir, user, attribute, data, replaced_by_sha256, action, now=None):
    """Save ``data`` (the value about to be replaced or removed); return the data file's path.

    Raises BackupError if anything cannot be written, so the caller writes nothing to the directory.
    """
    now = now or _utc_now()
    digest = hashlib.sha256(data).hexdigest()
    stem = _files.render_name("{name}.{attribute}.{stamp}.{sha}", dict(
        name=user.sam_account_name or user.object_guid or "user", attribute=attribute,
        stamp=now.strftime("%Y%m%dT%H%M%SZ"), sha=digest[:12]))
    try:
        # Several writer threads back up at once: the first ones race to create the folder, and
        # "isdir, else makedirs" made the loser fail with FileExistsError (a person left unwritten).
        os.makedirs(backup_dir, 0o700, exist_ok=True)
        data_path = _files.safe_path(backup_dir, stem + ".jpg")
        sidecar_path = data_path + ".json"
        sidecar = dict(
            format=BACKUP_FORMAT,
            dn=user.dn,
            sAMAccountName=user.sam_account_name,
            objectGUID=user.object_guid,
            attribute=attribute,
            sha256=digest,
            bytes=len(data),
            taken=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            action=action,
            replaced_by_sha256=replaced_by_sha256,
        )
        _files.atomic_write(data_path, data, mode=0o600)
        _files.atomic_write(sidecar_path, (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                            mode=0o600)
    except (IOError, OSError) as exc:
        raise _errors.BackupError(
            "cannot write the backup into %s: %s" % (backup_dir, exc.strerror or exc),
            user=user.sam_account_name or user.dn,
            hint="Nothing was changed in the directory. Fix backup_dir (it must be writable on the host "
                 "that runs the module) or set backup=false")
    return data_path


def read_backup(path, user=None, max_bytes=None, require_sidecar=True):
    """Read a backup given its data file or its sidecar; the hash in the sidecar must match.

    Both files must be regular files (``max_bytes`` bounds the data file, 20 MB by
    default).  Without a sidecar the file is not a backup this collection wrote: that is
    refused unless ``require_sidecar`` is false (the module's ``restore_foreign``).
    """
    if path.endswith(".json"):
        sidecar_path, data_path = path, path[:-len(".json")]
    else:
        data_path, sidecar_path = path, path + ".json"
    limit = max_bytes or _source_file.DEFAULT_FILE_MAX_BYTES
    try:
        data, _info = _source_file.read_regular_file(data_path, limit, what="backup", user=user)
    except _errors.SourceError as exc:
        raise _errors.BackupError(exc.message, user=user, hint=exc.hint)
    sidecar = None
    if os.path.lexists(sidecar_path):
        try:
            sidecar = _source_file.read_json_file(sidecar_path, user=user)
        except _errors.SourceError as exc:
            raise _errors.BackupError(exc.message, user=user, hint=exc.hint)
    elif require_sidecar:
        raise _errors.BackupError(
            "refusing to restore %s: it has no sidecar %s, so it is not a backup this collection wrote"
            % (data_path, os.path.basename(sidecar_path)), user=user,
            hint="Restore the data file of a backup with its .json sidecar beside it; to write a photo file from "
                 "elsewhere byte for byte, set restore_foreign: true (or use path, which processes the photo)")
    digest = hashlib.sha256(data).hexdigest()
    if sidecar is not None and require_sidecar and sidecar.get("sha256") != digest:
        raise _errors.BackupError(
            "the backup %s does not match its sidecar (sha256 %s, sidecar says %s)" % (
                data_path, digest, sidecar.get("sha256")),
            user=user, hint="The file was changed or truncated after the backup was taken")
    return Backup(data, digest, data_path, sidecar_path if sidecar is not None else None, sidecar)


def check_sidecar(backup, attribute, user=None):
    """The sidecar must describe this data (format, size, hash) and the attribute being restored."""
    sidecar = backup.sidecar or {}
    if sidecar.get("format") != BACKUP_FORMAT:
        raise _errors.BackupError(
            "the backup sidecar %s is not one this collection wrote (format %r, expected %d)"
            % (backup.sidecar_path, sidecar.get("format"), BACKUP_FORMAT), user=user)
    if sidecar.get("sha256") != backup.sha256 or sidecar.get("bytes") != len(backup.data):
        raise _errors.BackupError(
            "the backup %s does not match its sidecar (sha256 %s, %d bytes; sidecar says %s, %s bytes)" % (
                backup.data_path, backup.sha256, len(backup.data), sidecar.get("sha256"), sidecar.get("bytes")),
            user=user, hint="The file was changed or truncated after the backup was taken")
    taken = sidecar.get("attribute")
    if not isinstance(taken, str) or taken.lower() != (attribute or "").lower():
        raise _errors.BackupError(
            "the backup %s holds a %s value, not %s" % (backup.data_path, taken, attribute), user=user,
            hint="Restore it with attribute: %s" % taken if isinstance(taken, str) else None)
