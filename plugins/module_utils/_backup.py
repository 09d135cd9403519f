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

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files

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
        if not os.path.isdir(backup_dir):
            os.makedirs(backup_dir, 0o700)
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


def read_backup(path, user=None):
    """Read a backup given its data file or its sidecar; the hash in the sidecar must match."""
    if path.endswith(".json"):
        sidecar_path, data_path = path, path[:-len(".json")]
    else:
        data_path, sidecar_path = path, path + ".json"
    try:
        with open(data_path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise _errors.BackupError("cannot read the backup %s: %s" % (data_path, exc.strerror or exc), user=user)
    sidecar = None
    if os.path.exists(sidecar_path):
        try:
            with open(sidecar_path, "r") as handle:
                sidecar = json.load(handle)
        except (IOError, OSError, ValueError) as exc:
            raise _errors.BackupError("cannot read the backup sidecar %s: %s" % (sidecar_path, exc), user=user)
    digest = hashlib.sha256(data).hexdigest()
    if sidecar is not None and sidecar.get("sha256") != digest:
        raise _errors.BackupError(
            "the backup %s does not match its sidecar (sha256 %s, sidecar says %s)" % (
                data_path, digest, sidecar.get("sha256")),
            user=user, hint="The file was changed or truncated after the backup was taken")
    return Backup(data, digest, data_path, sidecar_path if sidecar is not None else None, sidecar)
