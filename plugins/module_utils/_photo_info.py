# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the directory holds now, per user: the logic behind thumbnail_photo_info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files, _image

DEFAULT_EXPORT_NAME = "{sAMAccountName}.jpg"


def info_spec():
    """Options of thumbnail_photo_info beyond the connection options (documented in the module)."""
    return dict(
        identities=dict(type="list", elements="str", aliases=["identity"]),
        identity_type=dict(type="str", default="auto",
                           choices=["auto", "dn", "objectGUID", "objectSid", "sAMAccountName",
                                    "userPrincipalName", "mail"]),
        filter=dict(type="str"),
        scope=dict(type="str", default="subtree", choices=["subtree", "onelevel", "base"]),
        attribute=dict(type="str", default="thumbnailPhoto", choices=["thumbnailPhoto", "jpegPhoto"]),
        include_metadata=dict(type="bool", default=True),
        include_content=dict(type="bool", default=False),
        export_dir=dict(type="path"),
        export_name=dict(type="str", default=DEFAULT_EXPORT_NAME),
    )


def _name_fields(user):
    return dict(
        sAMAccountName=user.sam_account_name, userPrincipalName=user.user_principal_name, mail=user.mail,
        objectGUID=user.object_guid, objectSid=user.object_sid, displayName=user.display_name, dn=user.dn,
    )


def describe_user(directory, user, values, attribute, include_metadata=False, include_content=False,
                  export_dir=None, export_name=DEFAULT_EXPORT_NAME, exported_names=None):
    """One user's report entry.  ``values`` are the attribute's raw values (bytes)."""
    photo = values[0] if values else None
    entry = dict(
        dn=user.dn,
        sAMAccountName=user.sam_account_name,
        userPrincipalName=user.user_principal_name,
        mail=user.mail,
        objectGUID=user.object_guid,
        attribute=attribute,
        has_photo=photo is not None,
        value_count=len(values),
    )
    summary = _image.summarize(photo) if photo is not None else dict(
        sha256=None, bytes=0, width=None, height=None, format=None, valid=None, error=None)
    entry.update(summary)
    entry["last_change"] = directory.photo_change_metadata(user.dn, attribute) if include_metadata else None
    entry["file"] = None
    if photo is not None and export_dir:
        name = _files.render_name(export_name, _name_fields(user))
        if exported_names is not None:
            # Two users rendering the same name would silently overwrite each other.
            if name in exported_names:
                raise _errors.ConfigurationError(
                    "export_name %r gives the same file name %r for %s and %s" % (
                        export_name, name, exported_names[name], user.dn),
                    hint="Use a field that is unique, e.g. {objectGUID}.jpg")
            exported_names[name] = user.dn
        path = _files.safe_path(export_dir, name)
        _files.atomic_write(path, photo)
        entry["file"] = path
    if include_content and photo is not None:
        entry["content"] = base64.b64encode(photo).decode("ascii")
    return entry


def collect(directory, params):
    """Report for ``params['identities']`` (in the order given) or for a search with ``params['filter']``."""
    attribute = params["attribute"]
    export_dir = params.get("export_dir")
    if export_dir and not os.path.isdir(export_dir):
        try:
            os.makedirs(export_dir)
        except OSError as exc:
            raise _errors.ConfigurationError("cannot create export_dir %s: %s" % (export_dir, exc))
    common = dict(include_metadata=params["include_metadata"], include_content=params["include_content"],
                  export_dir=export_dir, export_name=params["export_name"], exported_names={})
    users = []
    if params.get("identities"):
        for identity in params["identities"]:
            user = directory.resolve(identity, params["identity_type"])
            users.append(describe_user(directory, user, directory.read_values(user.dn, attribute), attribute,
                                       **common))
    else:
        for user, raw in directory.find_users(params["filter"], params.get("search_base"), params["scope"],
                                              extra_attributes=[attribute]):
            values = [bytes(v) for k, vs in raw.items() if k.lower() == attribute.lower() for v in vs]
            users.append(describe_user(directory, user, values, attribute, **common))
    return users
