# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the directory holds now, per user: the logic behind thumbnail_photo_info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files, _image, _ldap

DEFAULT_EXPORT_NAME = "{sAMAccountName}.{ext}"

# File extension per image format found (_image.summarize's "format").
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp", "TIFF": "tif", "WEBP": "webp",
               "HEIF": "heic", "HEIC": "heic", "AVIF": "avif", "ICO": "ico", "MPO": "jpg"}
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".avif", ".ico")


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
        fail_on_unresolved=dict(type="bool", default=False),
    )


def _name_fields(user, ext):
    return dict(
        sAMAccountName=user.sam_account_name, userPrincipalName=user.user_principal_name, mail=user.mail,
        objectGUID=user.object_guid, objectSid=user.object_sid, displayName=user.display_name, dn=user.dn,
        ext=ext,
    )


def _looks_like_text(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def file_extension(data, summary):
    """What the stored value is, as a file extension: jpg/png/... for an image, txt for text (base64
    pasted in, a URL), bin for anything else."""
    if summary.get("valid") and summary.get("format") in _EXTENSIONS:
        return _EXTENSIONS[summary["format"]]
    if summary.get("valid") and summary.get("format"):
        return summary["format"].lower()
    return "txt" if _looks_like_text(data) else "bin"


def _export_name(template, user, data, summary):
    ext = file_extension(data, summary)
    name = _files.render_name(template, _name_fields(user, ext))
    if not summary.get("valid") and "{ext}" not in template:
        # A template with a fixed image extension (e.g. {objectGUID}.jpg) must not label a value
        # that is no image at all as one.
        base, dot_ext = os.path.splitext(name)
        if dot_ext.lower() in _IMAGE_EXTENSIONS:
            name = "%s.%s" % (base, ext)
    return name


def describe_user(directory, user, values, attribute, include_metadata=False, include_content=False,
                  export_dir=None, export_name=DEFAULT_EXPORT_NAME, exported_names=None):
    """One user's report entry.  ``values`` are the attribute's raw values (bytes)."""
    photo = values[0] if values else None
    entry = dict(
        identity=None,
        found=True,
        ambiguous=False,
        lookup_error=None,
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
        name = _export_name(export_name, user, photo, summary)
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


def unresolved_entry(identity, exc):
    """The report entry of an identity that matched nobody, or more than one object."""
    entry = dict((key, None) for key in (
        "dn", "sAMAccountName", "userPrincipalName", "mail", "objectGUID", "has_photo", "value_count", "sha256",
        "bytes", "width", "height", "format", "valid", "error", "last_change", "file"))
    entry.update(identity=identity, found=False, lookup_error=str(exc),
                 ambiguous=isinstance(exc, _errors.AmbiguousIdentity))
    return entry


def unresolved(users):
    """The identities (as given) that matched nobody or more than one object."""
    return [u["identity"] for u in users if not u.get("found", True)]


def check_unresolved(users, params):
    """With fail_on_unresolved: fail, after everyone was reported, if any identity did not resolve."""
    missing = [u for u in users if not u.get("found", True)]
    if missing and params.get("fail_on_unresolved"):
        raise _errors.UserNotFound(
            "%d of %d identities did not resolve to exactly one person: %s" % (
                len(missing), len(users), "; ".join(u["lookup_error"] for u in missing[:10])),
            hint="The other entries were reported (and exported) all the same; fix or remove the names listed, "
                 "or set fail_on_unresolved=false to report them per entry without failing")


def collect(directory, params):
    """Report for ``params['identities']`` (in the order given) or for a search with ``params['filter']``.

    An identity that matches nobody, or more than one object, gets an entry with ``found: false``
    and ``lookup_error``; the others are reported as usual.  An identity that can never be valid
    (a control character) fails before anything is read or written.
    """
    attribute = params["attribute"]
    for identity in params.get("identities") or []:
        _ldap.check_identity(identity)
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
            try:
                user = directory.resolve(identity, params["identity_type"])
            except (_errors.UserNotFound, _errors.AmbiguousIdentity) as exc:
                users.append(unresolved_entry(identity, exc))
                continue
            entry = describe_user(directory, user, directory.read_values(user.dn, attribute), attribute, **common)
            entry["identity"] = identity
            users.append(entry)
    else:
        for user, raw in directory.find_users(params["filter"], params.get("search_base"), params["scope"],
                                              extra_attributes=[attribute]):
            values = [bytes(v) for k, vs in raw.items() if k.lower() == attribute.lower() for v in vs]
            users.append(describe_user(directory, user, values, attribute, **common))
    return users
