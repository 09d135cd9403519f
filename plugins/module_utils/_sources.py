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

from ansible_collections.photosync.ad.plugins.module_utils import _source_url
# The local file sources live in _source_file; imported here so their names stay importable from _sources.
from ansible_collections.photosync.ad.plugins.module_utils._source_file import BackupSource, ContentSource, FileSource

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
        restore_foreign=dict(type="bool", default=False),
        file_max_bytes=dict(type="int", default=20 * 1024 * 1024),
    )


# The URL source (fixed URL or per-person template) lives in _source_url, on the collection's HTTP client.
UrlSource = _source_url.UrlSource


def build_source(params, netbios_domain=None):
    """The source the module params ask for, or None when none is given (state=absent)."""
    if params.get("path"):
        return FileSource(params["path"], max_bytes=params.get("file_max_bytes"))
    if params.get("url"):
        return _source_url.from_params(params)
    if params.get("content") is not None:
        return ContentSource(params["content"])
    if params.get("restore_from"):
        return BackupSource(params["restore_from"], attribute=params.get("attribute") or "thumbnailPhoto",
                            foreign=params.get("restore_foreign", False), max_bytes=params.get("file_max_bytes"))
    if params.get("sharepoint") or params.get("graph"):
        from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint  # needs requests
        return _sharepoint.build_remote_source(params, netbios_domain)
    return None


def needs_netbios_domain(params):
    """SharePoint on-premises claims are DOMAIN\\user: only then is the domain's NetBIOS name read."""
    return bool(params.get("sharepoint"))
