# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a desired photo comes from: a file, a URL, inline content, a backup,
SharePoint or Microsoft Graph.

Every source has ``fetch(user) -> SourcePhoto or None`` (None: the source has no
photo for this user) and ``describe()`` for messages.  ``normalize`` says whether
the bytes go through the image pipeline: a backup is restored byte for byte.
The option names of the local sources are defined here once (``source_spec``)
and documented in the thumbnail_photo module; SharePoint and Graph bring their
own option families (``_sharepoint``, ``_graph``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _source_url
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto

SOURCE_OPTIONS = ("path", "url", "content", "restore_from", "sharepoint", "graph")


def source_spec():
    """Options of the local sources (file, URL, content, backup), documented in thumbnail_photo."""
    return dict(
        path=dict(type="path"),
        url=dict(type="str"),
        url_headers=dict(type="dict", default={}, no_log=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        url_bearer_token=dict(type="str", no_log=True),
        url_timeout=dict(type="int", default=30),
        url_max_bytes=dict(type="int", default=20 * 1024 * 1024),
        url_validate_certs=dict(type="bool", default=True),
        url_ca_cert=dict(type="path"),
        content=dict(type="str"),
        restore_from=dict(type="path"),
    )


class FileSource(object):
    normalize = True

    def __init__(self, path):
        self.path = path

    def describe(self):
        return "file %s" % self.path

    def fetch(self, user=None):
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
            version = "%d-%d" % (os.stat(self.path).st_mtime, len(data))
        except (IOError, OSError) as exc:
            raise _errors.SourceError(
                "cannot read the photo file %s: %s" % (self.path, exc.strerror or exc),
                user=_name(user),
                hint="The path is read on the host that runs the module; with a file on the controller "
                     "use delegate_to: localhost")
        return SourcePhoto(data, version, self.path, None)


# The URL source (fixed URL or per-person template) lives in _source_url, on the collection's HTTP client.
UrlSource = _source_url.UrlSource


class ContentSource(object):
    normalize = True

    def __init__(self, content):
        self.content = content

    def describe(self):
        return "inline content"

    def fetch(self, user=None):
        try:
            data = base64.b64decode("".join(self.content.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _errors.SourceError("content is not valid base64: %s" % exc, user=_name(user),
                                      hint="Pass the photo base64-encoded, e.g. content: \"{{ lookup('file', "
                                           "'alice.jpg') | b64encode }}\" does not work for binary files; use "
                                           "path with delegate_to: localhost instead")
        return SourcePhoto(data, hashlib.sha256(data).hexdigest(), "content", None)


class BackupSource(object):
    """A backup written by this collection: the data file or its .json sidecar."""

    normalize = False  # restore byte for byte what the directory held

    def __init__(self, path):
        self.path = path
        self.sidecar = None  # set by fetch(): whose value the backup was, for a warning on mismatch

    def describe(self):
        return "backup %s" % self.path

    def fetch(self, user=None):
        from ansible_collections.photosync.ad.plugins.module_utils import _backup  # avoid an import cycle
        backup = _backup.read_backup(self.path, user=_name(user))
        self.sidecar = backup.sidecar
        return SourcePhoto(backup.data, backup.sha256, backup.data_path, None)


def build_source(params, netbios_domain=None):
    """The source the module params ask for, or None when none is given (state=absent)."""
    if params.get("path"):
        return FileSource(params["path"])
    if params.get("url"):
        return _source_url.from_params(params)
    if params.get("content") is not None:
        return ContentSource(params["content"])
    if params.get("restore_from"):
        return BackupSource(params["restore_from"])
    if params.get("sharepoint") or params.get("graph"):
        from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint  # needs requests
        return _sharepoint.build_remote_source(params, netbios_domain)
    return None


def needs_netbios_domain(params):
    """SharePoint on-premises claims are DOMAIN\\user: only then is the domain's NetBIOS name read."""
    return bool(params.get("sharepoint"))


def _name(user):
    if user is None:
        return None
    return user.sam_account_name or user.dn
