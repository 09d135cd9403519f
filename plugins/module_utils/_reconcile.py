# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what one user's photo needs (plan) and carry it out (apply).

The one path every photo takes: resolve the user, read the current value, fetch
and normalize the desired one, compare bytes, and only then back up the old
value and write with compare-and-swap.  thumbnail_photo runs this for one user;
a bulk sync runs the same functions per user.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
from collections import namedtuple

from ansible_collections.photosync.ad.plugins.module_utils import _backup, _errors, _image

# action: unchanged | added | updated | removed
Change = namedtuple("Change", ["user", "attribute", "action", "current", "desired", "source", "source_version"])


def user_name(user):
    return user.sam_account_name or user.user_principal_name or user.dn


def desired_photo(user, state, source, profile):
    """The bytes the attribute should hold (None for absent), with errors naming the user and source."""
    if state == "absent":
        return None, None
    photo = source.fetch(user)
    if photo is None:
        raise _errors.SourceError("%s has no photo for this user" % source.describe(), user=user_name(user),
                                  hint="Nothing was changed")
    if not source.normalize:
        return photo.data, photo.version
    try:
        return _image.normalize(photo.data, profile).data, photo.version
    except _errors.ImageError as exc:
        # Say whose photo and which source: in a run over many users that is what matters.
        exc.message = "the photo from %s cannot be used: %s" % (source.describe(), exc.message)
        exc.user = exc.user or user_name(user)
        raise


def plan(user, attribute, current_values, desired, source=None, source_version=None):
    """Compare current and desired bytes; no I/O."""
    current = current_values[0] if current_values else None
    if desired is None:
        action = "removed" if current_values else "unchanged"
    elif not current_values:
        action = "added"
    elif len(current_values) == 1 and current == desired:
        action = "unchanged"
    else:
        action = "updated"
    return Change(user, attribute, action, list(current_values), desired,
                  source.describe() if source is not None else None, source_version)


def apply(directory, change, check_mode=False, force=False, backup_dir=None):
    """Carry out ``change``; returns the path of the backup taken, if any.

    Check mode stops before anything is written, backup included, but fails as the
    real run would if the bound account may not write the attribute.  A backup that
    cannot be written raises BackupError before the directory is touched.
    """
    if change.action == "unchanged":
        return None
    if check_mode:
        directory.check_write_access(change.user.dn, change.attribute, user=user_name(change.user))
        return None
    backup_file = None
    if backup_dir and change.current:
        backup_file = _backup.write_backup(
            backup_dir, change.user, change.attribute, change.current[0],
            hashlib.sha256(change.desired).hexdigest() if change.desired is not None else None, change.action)
    expected = change.current if len(change.current) > 1 else (change.current[0] if change.current else None)
    directory.swap_photo(change.user.dn, change.attribute, expected, change.desired, force=force,
                         user=user_name(change.user))
    return backup_file


def summary(data):
    """What results and diffs show of a value: never the bytes themselves."""
    if data is None:
        return None
    info = _image.summarize(data)
    return dict((k, info.get(k)) for k in ("sha256", "bytes", "width", "height", "format"))


def result(change, backup_file=None):
    """The module result (without ``changed``'s consumer-specific extras) for one change."""
    before = summary(change.current[0]) if change.current else None
    after = summary(change.desired)
    header = "%s (%s) %s" % (user_name(change.user), change.user.dn, change.attribute)
    return dict(
        changed=change.action != "unchanged",
        action=change.action,
        dn=change.user.dn,
        sAMAccountName=change.user.sam_account_name,
        attribute=change.attribute,
        before=before,
        after=after,
        backup_file=backup_file,
        source=change.source,
        source_version=change.source_version,
        diff=dict(
            before=before or dict(present=False),
            after=after or dict(present=False),
            before_header=header,
            after_header=header,
        ),
    )
