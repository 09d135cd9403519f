# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a desired photo comes from: a file, a URL, inline content, a backup,
SharePoint or Microsoft Graph.

Every source has ``fetch(user) -> SourcePhoto or None`` (None: the source has no
photo for this user) and ``describe()`` for messages.  ``normalize`` says whether
the bytes go through the image pipeline: a backup is restored byte for byte.
The option families of targets and sources are defined here once (spec
factories, each paired with a doc fragment) in a module that imports nothing
heavy; ``build_source``/``build_bulk_source`` turn validated options into a
source before any network I/O, importing SharePoint/Graph code only when used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _remote_options
from ansible_collections.photosync.ad.plugins.module_utils._ldap import IDENTITY_TYPES
# The local file sources live in _source_file; imported here so their names stay importable from _sources.
from ansible_collections.photosync.ad.plugins.module_utils._source_file import (
    DEFAULT_FILE_MAX_BYTES, BackupSource, ContentSource, FileSource, build_folder_source,
)

# The single-person source options of thumbnail_photo (exactly one is given), and the
# per-person (templated) ones of thumbnail_photo_sync.
SOURCE_OPTIONS = ("path", "url", "content", "restore_from", "sharepoint", "graph")
BULK_SOURCE_OPTIONS = ("photo_dir", "photo_url_template", "sharepoint", "graph")

DEFAULT_NAME_TEMPLATES = ("{sAMAccountName}.*",)


# --- option families ---------------------------------------------------------------
# Each spec factory is paired one-to-one with a doc fragment (change both together).
# They live in this light module so that a module shell can build its argument spec
# without importing the HTTP, NTLM or MSAL stacks (those load only when a remote
# source is really used).

def target_spec():
    """One person: ``identity``/``identity_type``.  Doc fragment photosync.ad.target (DOCUMENTATION)."""
    return dict(
        identity=dict(type="str", required=True),
        identity_type=dict(type="str", default="auto", choices=list(IDENTITY_TYPES)),
    )


def scope_spec():
    """Many people: ``identities`` or ``filter`` (+ the ldap family's ``search_base``), ``scope``,
    ``include_disabled``.  Doc fragment photosync.ad.target.SCOPE."""
    return dict(
        identities=dict(type="list", elements="str"),
        identity_type=dict(type="str", default="auto", choices=list(IDENTITY_TYPES)),
        filter=dict(type="str"),
        scope=dict(type="str", default="subtree", choices=["subtree", "onelevel"]),
        include_disabled=dict(type="bool", default=False),
    )


def file_client_spec():
    """How local files are read (``path``, ``restore_from``, ``photo_dir``).  Doc fragment
    photosync.ad.sources.FILE_CLIENT."""
    return dict(file_max_bytes=dict(type="int", default=DEFAULT_FILE_MAX_BYTES))


def url_client_spec():
    """How URLs are downloaded (``url``, ``photo_url_template``).  Doc fragment photosync.ad.sources.URL_CLIENT."""
    return dict(
        url_headers=dict(type="dict", default={}, no_log=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        url_bearer_token=dict(type="str", no_log=True),
        url_timeout=dict(type="int", default=30),
        url_max_bytes=dict(type="int", default=20 * 1024 * 1024),
        url_validate_certs=dict(type="bool", default=True),
        url_ca_cert=dict(type="path"),
    )


def sharepoint_spec():
    """The ``sharepoint`` option (``_remote_options.sharepoint_spec``).  Doc fragment photosync.ad.sharepoint
    (DOCUMENTATION)."""
    return _remote_options.sharepoint_spec()


def graph_spec():
    """The ``graph`` option (``_remote_options.graph_spec``).  Doc fragment photosync.ad.sharepoint.GRAPH."""
    return _remote_options.graph_spec()


def source_spec():
    """The single-person sources (exactly one of SOURCE_OPTIONS).  Doc fragments
    photosync.ad.sources (DOCUMENTATION), photosync.ad.sources.FILE_CLIENT and .URL_CLIENT, photosync.ad.sharepoint and
    photosync.ad.sharepoint.graph."""
    spec = dict(
        path=dict(type="path"),
        url=dict(type="str"),
        content=dict(type="str"),
        restore_from=dict(type="path"),
        restore_foreign=dict(type="bool", default=False),
        file_max_bytes=dict(type="int", default=20 * 1024 * 1024),
    )
    spec.update(url_client_spec())
    spec.update(sharepoint_spec())
    spec.update(graph_spec())
    return spec


def templated_source_spec():
    """The per-person sources of a bulk run (exactly one of BULK_SOURCE_OPTIONS).  Doc fragments
    photosync.ad.sources.TEMPLATED, photosync.ad.sources.FILE_CLIENT and .URL_CLIENT, photosync.ad.sharepoint and
    photosync.ad.sharepoint.graph."""
    spec = dict(
        photo_dir=dict(type="path"),
        photo_name_templates=dict(type="list", elements="str", default=list(DEFAULT_NAME_TEMPLATES)),
        photo_url_template=dict(type="str"),
    )
    spec.update(file_client_spec())
    spec.update(url_client_spec())
    spec.update(sharepoint_spec())
    spec.update(graph_spec())
    return spec


def build_source(params):
    """The single-person source the module params ask for, or None when none is given (state=absent).

    Everything is validated here, before any network I/O: a bad URL or a SharePoint/Graph setting
    that cannot work fails the task before the directory is contacted.
    """
    if params.get("path"):
        return FileSource(params["path"], max_bytes=params.get("file_max_bytes") or DEFAULT_FILE_MAX_BYTES)
    if params.get("url"):
        return _url_source(params)
    if params.get("content") is not None:
        return ContentSource(params["content"])
    if params.get("restore_from"):
        return BackupSource(params["restore_from"], attribute=params.get("attribute") or "thumbnailPhoto",
                            foreign=params.get("restore_foreign", False),
                            max_bytes=params.get("file_max_bytes") or DEFAULT_FILE_MAX_BYTES)
    return _remote_source(params)


def build_bulk_source(params):
    """The per-person source of a bulk run (photo_dir, photo_url_template, sharepoint or graph).

    Validated before any network I/O, like ``build_source``.
    """
    given = [name for name in BULK_SOURCE_OPTIONS if params.get(name)]
    if len(given) != 1:
        raise _errors.ConfigurationError(
            "give exactly one photo source (%s), got %s" % (", ".join(BULK_SOURCE_OPTIONS), ", ".join(given) or "none"))
    if params.get("photo_dir"):
        return build_folder_source(params)
    if params.get("photo_url_template"):
        return _url_source(params, template=params["photo_url_template"])
    return _remote_source(params)


# The URL, SharePoint and Graph sources are imported when one is built, not with this module:
# Python compiles every imported module_utils file on every task, and a file source needs none of them.

def _url_source(params, template=None):
    """A fixed URL or a per-person URL template (``_source_url``, on the collection's HTTP client)."""
    from ansible_collections.photosync.ad.plugins.module_utils import _source_url
    return _source_url.from_params(params, template=template)


def _remote_source(params):
    """SharePoint or Graph (their HTTP, NTLM and MSAL libraries load on first use, not here)."""
    if params.get("sharepoint") or params.get("graph"):
        from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint
        return _sharepoint.build_remote_source(params, None)
    return None


def bind_to_directory(source, directory):
    """Give a source what it needs from the directory once connected (SharePoint on-premises claims
    are DOMAIN\\user: the domain's NetBIOS name is read only then)."""
    flavor = getattr(getattr(source, "client", None), "flavor", None)
    if getattr(source, "netbios_domain", False) is None and flavor == "onprem":
        source.netbios_domain = directory.netbios_domain()
    return source
