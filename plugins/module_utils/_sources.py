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

import os
import string
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _files
from ansible_collections.photosync.ad.plugins.module_utils._ldap import IDENTITY_TYPES
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto
# The local file sources live in _source_file; imported here so their names stay importable from _sources.
from ansible_collections.photosync.ad.plugins.module_utils._source_file import (
    DEFAULT_FILE_MAX_BYTES, BackupSource, ContentSource, FileSource, FolderSource,
)

# The single-person source options of thumbnail_photo (exactly one is given), and the
# per-person (templated) ones of thumbnail_photo_sync.
SOURCE_OPTIONS = ("path", "url", "content", "restore_from", "sharepoint", "graph")
BULK_SOURCE_OPTIONS = ("photo_dir", "photo_url_template", "sharepoint", "graph")

# Content types a photo URL may announce.  Servers often say octet-stream for
# files; anything else (text/html above all: a login or error page) is refused.
_ACCEPTED_CONTENT_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
GRAPH_PHOTO_SIZES = ("48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504", "648x648")
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
        url_headers=dict(type="dict", default={}),
        url_timeout=dict(type="int", default=30),
        url_max_bytes=dict(type="int", default=20 * 1024 * 1024),
        url_validate_certs=dict(type="bool", default=True),
        url_ca_cert=dict(type="path"),
    )


def sharepoint_spec():
    """The ``sharepoint`` option.  Doc fragment photosync.ad.sharepoint (DOCUMENTATION)."""
    return {
        "sharepoint": dict(
            type="dict",
            options=dict(
                site_url=dict(type="str", required=True),
                mysite_url=dict(type="str"),
                flavor=dict(type="str", default="onprem", choices=["onprem", "online"]),
                auth=dict(type="str", choices=["ntlm", "kerberos", "certificate", "token"]),
                username=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_SP_USERNAME"])),
                password=dict(type="str", no_log=True, fallback=(env_fallback, ["PHOTOSYNC_SP_PASSWORD"])),
                tenant_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_TENANT_ID"])),
                client_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CLIENT_ID"])),
                certificate_path=dict(type="path", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CERTIFICATE_PATH"])),
                certificate_thumbprint=dict(type="str"),
                authority=dict(type="str", default=DEFAULT_AUTHORITY),
                token=dict(type="str", no_log=True, fallback=(env_fallback, ["PHOTOSYNC_SP_TOKEN"])),
                validate_certs=dict(type="bool", default=True),
                ca_cert=dict(type="path"),
                timeout=dict(type="int", default=30),
                retries=dict(type="int", default=5),
                max_concurrency=dict(type="int", default=4),
                photo_size=dict(type="str", default="L", choices=["L", "M", "S"]),
                account_template=dict(type="str"),
                odata=dict(type="str", default="verbose", choices=["verbose", "nometadata"]),
            ),
        )
    }


def graph_spec():
    """The ``graph`` option.  Doc fragment photosync.ad.sharepoint.GRAPH."""
    return {
        "graph": dict(
            type="dict",
            options=dict(
                auth=dict(type="str", choices=["certificate", "token"]),
                tenant_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_TENANT_ID"])),
                client_id=dict(type="str", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CLIENT_ID"])),
                certificate_path=dict(type="path", fallback=(env_fallback, ["PHOTOSYNC_AZURE_CERTIFICATE_PATH"])),
                certificate_thumbprint=dict(type="str"),
                authority=dict(type="str", default=DEFAULT_AUTHORITY),
                token=dict(type="str", no_log=True, fallback=(env_fallback, ["PHOTOSYNC_GRAPH_TOKEN"])),
                graph_url=dict(type="str", default=DEFAULT_GRAPH_URL),
                user_key=dict(type="str", default="userPrincipalName",
                              choices=["userPrincipalName", "mail", "onPremisesImmutableId"]),
                user_template=dict(type="str"),
                photo_size=dict(type="str", default="original", choices=["original"] + list(GRAPH_PHOTO_SIZES)),
                validate_certs=dict(type="bool", default=True),
                ca_cert=dict(type="path"),
                timeout=dict(type="int", default=30),
                retries=dict(type="int", default=5),
                max_concurrency=dict(type="int", default=4),
            ),
        )
    }


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


class UrlSource(object):
    normalize = True

    def __init__(self, url, headers=None, timeout=30, max_bytes=20 * 1024 * 1024, validate_certs=True,
                 ca_cert=None):
        if not url.lower().startswith(("http://", "https://")):
            raise _errors.ConfigurationError("url must start with http:// or https://, got %r" % url)
        self.url = url
        self.headers = headers or {}
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.validate_certs = validate_certs
        self.ca_cert = ca_cert

    def describe(self):
        return "URL %s" % self.url

    def fetch(self, user=None):
        # Loaded on use: ansible's URL helpers pull in cryptography, which a file source never needs.
        from ansible.module_utils.urls import open_url
        from urllib.error import HTTPError, URLError

        who = _name(user)
        try:
            response = open_url(self.url, headers=self.headers, timeout=self.timeout,
                                validate_certs=self.validate_certs, ca_path=self.ca_cert,
                                http_agent="photosync.ad", follow_redirects="safe")
        except HTTPError as exc:
            raise _errors.RemoteServiceError(
                "downloading %s failed: HTTP %s %s" % (self.url, exc.code, exc.reason), user=who, status=exc.code,
                hint="Check the URL and any authentication header in url_headers" if exc.code in (401, 403)
                else None)
        except URLError as exc:
            reason = str(getattr(exc, "reason", exc))
            hint = "Pass url_ca_cert with the CA that issued the server certificate" \
                if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason else None
            raise _errors.SourceError("downloading %s failed: %s" % (self.url, reason), user=who, hint=hint)
        except Exception as exc:  # pylint: disable=broad-except
            # open_url raises socket and SSL errors of many kinds; all mean "could not download".
            raise _errors.SourceError("downloading %s failed: %s" % (self.url, exc), user=who)
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type and not content_type.startswith(_ACCEPTED_CONTENT_TYPES):
            raise _errors.InvalidImage(
                "%s answered with %s, not an image" % (self.url, content_type), user=who,
                hint="A login or error page is the usual cause; check the URL and url_headers")
        data = response.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise _errors.SourceError(
                "%s is larger than url_max_bytes (%d bytes)" % (self.url, self.max_bytes), user=who)
        version = response.headers.get("ETag") or response.headers.get("Last-Modified")
        return SourcePhoto(data, version, self.url, content_type or None)


def build_source(params):
    """The single-person source the module params ask for, or None when none is given (state=absent).

    Everything is validated here, before any network I/O: a bad URL or a SharePoint/Graph setting
    that cannot work fails the task before the directory is contacted.
    """
    if params.get("path"):
        return FileSource(params["path"], max_bytes=params.get("file_max_bytes") or DEFAULT_FILE_MAX_BYTES)
    if params.get("url"):
        return UrlSource(params["url"], headers=params.get("url_headers"), timeout=params.get("url_timeout") or 30,
                         max_bytes=params.get("url_max_bytes") or 20 * 1024 * 1024,
                         validate_certs=params.get("url_validate_certs", True), ca_cert=params.get("url_ca_cert"))
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
        return FolderSource(params["photo_dir"], params.get("photo_name_templates") or DEFAULT_NAME_TEMPLATES,
                            max_bytes=params.get("file_max_bytes") or DEFAULT_FILE_MAX_BYTES)
    if params.get("photo_url_template"):
        return UrlTemplateSource(
            params["photo_url_template"], headers=params.get("url_headers"), timeout=params.get("url_timeout") or 30,
            max_bytes=params.get("url_max_bytes") or 20 * 1024 * 1024,
            validate_certs=params.get("url_validate_certs", True), ca_cert=params.get("url_ca_cert"))
    return _remote_source(params)


def _remote_source(params):
    if params.get("sharepoint") or params.get("graph"):
        from ansible_collections.photosync.ad.plugins.module_utils import _sharepoint  # loads requests, msal, NTLM
        return _sharepoint.build_remote_source(params, None)
    return None


def bind_to_directory(source, directory):
    """Give a source what it needs from the directory once connected (SharePoint on-premises claims
    are DOMAIN\\user: the domain's NetBIOS name is read only then)."""
    if getattr(source, "netbios_domain", False) is None and getattr(getattr(source, "client", None), "flavor",
                                                                     None) == "onprem":
        source.netbios_domain = directory.netbios_domain()
    return source


# --- per-person sources of a bulk run ------------------------------------------------

_TEMPLATE_FIELDS = (
    ("sAMAccountName", "sam_account_name"), ("userPrincipalName", "user_principal_name"), ("mail", "mail"),
    ("objectGUID", "object_guid"), ("objectSid", "object_sid"), ("displayName", "display_name"),
)


def template_values(user):
    """The fields a per-person template may use, from a DirectoryUser (missing values are None)."""
    return dict((name, getattr(user, attr, None)) for name, attr in _TEMPLATE_FIELDS)


def _check_template_fields(template, what):
    fields = [part[1] for part in string.Formatter().parse(template) if part[1] is not None]
    known = [name for name, dummy in _TEMPLATE_FIELDS]
    unknown = sorted(set(f for f in fields if f not in known))
    if not fields or unknown:
        raise _errors.ConfigurationError(
            "%s %r %s" % (what, template, "uses unknown fields %s" % ", ".join(unknown) if unknown
                          else "has no {field}, so every person would get the same photo"),
            hint="Use fields among %s" % ", ".join("{%s}" % k for k in known))


class UrlTemplateSource(object):
    """Per-person URLs: ``photo_url_template`` with {fields} filled in (URL-encoded).

    404 (and 410) mean "no photo for this person"; any other failure is an error, never "no photo".
    """

    normalize = True

    def __init__(self, template, **client):
        if not template.lower().startswith(("http://", "https://")):
            raise _errors.ConfigurationError("photo_url_template must start with http:// or https://, got %r"
                                             % template)
        _check_template_fields(template, "photo_url_template")
        self.template = template
        self.client = client
        UrlSource(template, **client)  # validate the client options now

    def describe(self):
        return "URL template %s" % self.template

    def url(self, user):
        values = template_values(user)
        fields = [part[1] for part in string.Formatter().parse(self.template) if part[1]]
        missing = sorted(set(f for f in fields if not values.get(f)))
        if missing:
            return None
        return self.template.format(**dict((k, quote(str(v), safe="@") if v is not None else "")
                                           for k, v in values.items()))

    def fetch(self, user):
        url = self.url(user)
        if url is None:
            return None
        try:
            return UrlSource(url, **self.client).fetch(user)
        except _errors.RemoteServiceError as exc:
            if exc.status in (404, 410):
                return None
            if exc.status in (401, 403):
                exc.run_wide = True
            raise


def _name(user):
    if user is None:
        return None
    return user.sam_account_name or user.dn
