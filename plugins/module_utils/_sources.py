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

from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto
# The local file sources live in _source_file; imported here so their names stay importable from _sources.
from ansible_collections.photosync.ad.plugins.module_utils._source_file import BackupSource, ContentSource, FileSource

SOURCE_OPTIONS = ("path", "url", "content", "restore_from", "sharepoint", "graph")

# Content types a photo URL may announce.  Servers often say octet-stream for
# files; anything else (text/html above all: a login or error page) is refused.
_ACCEPTED_CONTENT_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")


def source_spec():
    """Options of the local sources (file, URL, content, backup), documented in thumbnail_photo."""
    return dict(
        path=dict(type="path"),
        url=dict(type="str"),
        url_headers=dict(type="dict", default={}),
        url_timeout=dict(type="int", default=30),
        url_max_bytes=dict(type="int", default=20 * 1024 * 1024),
        url_validate_certs=dict(type="bool", default=True),
        url_ca_cert=dict(type="path"),
        content=dict(type="str"),
        restore_from=dict(type="path"),
        restore_foreign=dict(type="bool", default=False),
        file_max_bytes=dict(type="int", default=20 * 1024 * 1024),
    )


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


def build_source(params, netbios_domain=None):
    """The source the module params ask for, or None when none is given (state=absent)."""
    if params.get("path"):
        return FileSource(params["path"], max_bytes=params.get("file_max_bytes"))
    if params.get("url"):
        return UrlSource(params["url"], headers=params.get("url_headers"), timeout=params.get("url_timeout", 30),
                         max_bytes=params.get("url_max_bytes") or 20 * 1024 * 1024,
                         validate_certs=params.get("url_validate_certs", True), ca_cert=params.get("url_ca_cert"))
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


def _name(user):
    if user is None:
        return None
    return user.sam_account_name or user.dn
