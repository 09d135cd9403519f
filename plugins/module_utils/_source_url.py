# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A photo from an http(s) URL, or one URL per person from a template.

Built on the collection's own HTTP client (``_http.HttpClient``: retries with
``Retry-After``, a concurrency cap, a size cap, certificate validation), so the
URL source behaves like the SharePoint and Graph ones:

* ``url_timeout`` is a deadline for the whole download, retries and redirects
  included: a server trickling one byte a second fails when it passes;
* credentials (``url_username``/``url_password``, ``url_bearer_token``,
  ``url_headers``, cookies) are sent only to the URL's own origin, never after a
  redirect to another scheme, host or port; redirects go to http(s) only;
* a password written into the URL (``https://user:pass@host/...``) is taken out
  of it, used as basic authentication, and never appears in a message;
* an answer that announces something other than an image, or whose first bytes
  are not an image, is refused before the rest is downloaded; an answer larger
  than ``url_max_bytes`` is cut off at the limit.

The option names are defined in ``_sources.source_spec()`` and documented in the
thumbnail_photo module (``url`` and ``url_*``).

``requests`` is imported on the first download, not with this module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import string
from urllib.parse import quote, urlsplit, urlunsplit, unquote

from ansible_collections.photosync.ad.plugins.module_utils import _errors
from ansible_collections.photosync.ad.plugins.module_utils._http import HttpClient, is_image_start, redact_url
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import mark_error, prefetch_each

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_RETRIES = 3
DEFAULT_CONCURRENCY = 4

# Content types a photo URL may announce.  Servers often say octet-stream for
# files; anything else (text/html above all: a login or error page) is refused.
ACCEPTED_CONTENT_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")

# Template fields: the LDAP name (and short aliases) -> DirectoryUser attribute.
TEMPLATE_FIELDS = {
    "sAMAccountName": "sam_account_name", "sam": "sam_account_name",
    "userPrincipalName": "user_principal_name", "upn": "user_principal_name",
    "mail": "mail", "objectGUID": "object_guid", "objectSid": "object_sid",
    "distinguishedName": "dn", "dn": "dn", "displayName": "display_name",
    "employeeID": "employee_id", "employeeNumber": "employee_number",
}


def template_fields(template):
    """The ``{field}`` names used in a URL template, in order."""
    try:
        return [part[1] for part in string.Formatter().parse(template) if part[1]]
    except ValueError as exc:
        raise _errors.ConfigurationError("url_template %s is not usable: %s" % (redact_url(template), exc))


def _user_value(user, field):
    """A person's value for a template field: a DirectoryUser attribute, or an extra attribute the
    directory layer carries (``user.attributes``), by LDAP name; None when the person has none."""
    attr = TEMPLATE_FIELDS.get(field)
    for name in (attr, field):
        if name and hasattr(user, name):
            value = getattr(user, name)
            if value not in (None, "", []):
                return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
    extra = getattr(user, "attributes", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            if key.lower() == field.lower() and value not in (None, "", []):
                return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
    return None


def _split_userinfo(url):
    """(url without user:password, username, password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    user, _colon, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, (unquote(password) if _colon else None)


def _who(user):
    if user is None:
        return None
    return user.sam_account_name or getattr(user, "user_principal_name", None) or user.dn


class _BearerToken(object):
    """A requests auth callable adding ``Authorization: Bearer <token>``."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer " + self.token
        return request


class UrlSource(object):
    """``fetch(person) -> SourcePhoto | None``; ``prefetch(people)`` for many.

    Exactly one of ``url`` (the same photo for whoever asks) and ``template`` (one URL per
    person, ``{field}`` values URL-encoded, for example ``https://hr.example.com/photos/{employeeID}.jpg``).
    With a template, 404 and 410 mean "no photo for this person"; with a fixed URL they are an error.
    """

    normalize = True

    def __init__(self, url=None, headers=None, timeout=30, max_bytes=DEFAULT_MAX_BYTES, validate_certs=True,
                 ca_cert=None, template=None, username=None, password=None, bearer_token=None,
                 retries=DEFAULT_RETRIES, max_concurrency=DEFAULT_CONCURRENCY, max_retry_wait=None,
                 sleep=None, rand=None):
        if bool(url) == bool(template):
            raise _errors.ConfigurationError("give either a URL or a URL template, not %s" % (
                "both" if url else "neither"))
        raw = url or template
        what = "url_template" if template else "url"
        if not raw.lower().startswith(("http://", "https://")):
            raise _errors.ConfigurationError("%s must start with http:// or https://, got %s" % (
                what, redact_url(raw)))
        cleaned, url_user, url_password = _split_userinfo(raw)
        if template:
            fields = template_fields(cleaned)
            if not fields:
                raise _errors.ConfigurationError(
                    "url_template %s has no {field}, so every person would get the same photo" % cleaned,
                    hint="For example https://hr.example.com/photos/{employeeID}.jpg")
            head = urlsplit(cleaned.split("{", 1)[0])
            if not head.path:
                raise _errors.ConfigurationError(
                    "url_template %s puts a {field} into the scheme or host; fields may only be used in the "
                    "path and query (directory values must not choose the server)" % cleaned)
        if bearer_token and (username or url_user):
            raise _errors.ConfigurationError("give either url_bearer_token or url_username/url_password, not both")
        if timeout is None or timeout <= 0:
            raise _errors.ConfigurationError("url_timeout must be more than 0 seconds")
        self.url = None if template else cleaned
        self.template = cleaned if template else None
        self.username = username or url_user
        self.password = password if password is not None else url_password
        self.bearer_token = bearer_token
        self.timeout = timeout
        self.max_bytes = max_bytes or DEFAULT_MAX_BYTES
        self.max_concurrency = max_concurrency or DEFAULT_CONCURRENCY
        self.headers = dict((str(k), str(v)) for k, v in (headers or {}).items())
        self.http = HttpClient(
            "the photo URL's server", auth_factory=self._auth_factory(), timeout=timeout,
            validate_certs=validate_certs, ca_cert=ca_cert, retries=retries, max_concurrency=self.max_concurrency,
            max_bytes=self.max_bytes, headers=self.headers, sleep=sleep, rand=rand, max_wait=max_retry_wait,
            deadline=timeout, hint_for=self._hint, ca_option="url_ca_cert")

    def _auth_factory(self):
        if self.bearer_token:
            token = self.bearer_token
            return lambda: _BearerToken(token)
        if self.username:
            credentials = (self.username, self.password or "")
            return lambda: credentials
        return None

    def _hint(self, status, detail=None):
        if status in (401, 403):
            return "Check url_username/url_password, url_bearer_token or url_headers"
        if status in (404, 410) and self.url:
            return "Check the URL"
        return None

    def secrets(self):
        """The secret values this source holds, for a module to add to its no_log values
        (a password written into the URL is not an option Ansible knows to hide)."""
        return [v for v in (self.password, self.bearer_token) if v] + [v for v in self.headers.values() if v]

    def attributes(self):
        """The directory attributes (LDAP names) a URL template needs, for the directory read."""
        if not self.template:
            return []
        return [f for f in template_fields(self.template) if f not in ("dn", "distinguishedName")]

    def describe(self):
        if self.template:
            return "URL template %s" % self.template
        return "URL %s" % self.url

    def url_for(self, user):
        """The URL of ``user``'s photo (field values URL-encoded)."""
        if not self.template:
            return self.url
        values = {}
        missing = []
        for field in template_fields(self.template):
            value = _user_value(user, field) if user is not None else None
            if value is None:
                missing.append(field)
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            values[field] = quote(str(value), safe="")
        if missing:
            raise _errors.SourceError(
                "url_template %s needs %s, which this person does not have" % (
                    self.template, ", ".join("{%s}" % f for f in sorted(set(missing)))),
                user=_who(user))
        try:
            return self.template.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise _errors.ConfigurationError("url_template %s is not usable: %s" % (self.template, exc))

    def _inspect(self, url, who):
        def inspect(headers, first):
            content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(ACCEPTED_CONTENT_TYPES):
                raise _errors.InvalidImage(
                    "%s answered with %s, not an image" % (redact_url(url), content_type), user=who,
                    hint="A login or error page is the usual cause; check the URL and the url_* credentials")
            if not is_image_start(first):
                announced = " (announced as %s)" % content_type if content_type else ""
                what = "an HTML page" if first.lstrip()[:1] == b"<" else "something that does not start like an image"
                raise _errors.InvalidImage(
                    "%s answered with %s%s, not an image (%d bytes looked at)" % (
                        redact_url(url), what, announced, len(first)), user=who,
                    hint="Nothing more was downloaded. A login or error page is the usual cause; check the URL "
                         "and the url_* credentials")
        return inspect

    def fetch(self, user=None):
        who = _who(user)
        try:
            url = self.url_for(user)
            none_on = (404, 410) if self.template else ()
            try:
                response = self.http.request("GET", url, headers={"Accept": "image/*, */*;q=0.5"}, user=who,
                                             none_on=none_on, inspect=self._inspect(url, who))
            except _errors.RemoteServiceError as exc:
                if getattr(exc, "too_large", False):
                    raise _errors.SourceError(
                        "%s is larger than url_max_bytes (%d bytes); the download was cut off there" % (
                            redact_url(url), self.max_bytes), user=who)
                raise
            if response is None:
                return None
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower() or None
            version = response.headers.get("ETag") or response.headers.get("Last-Modified")
            return SourcePhoto(response.content, version, redact_url(url), content_type)
        except _errors.PhotoSyncError as exc:
            raise mark_error(exc, who)

    def prefetch(self, people):
        """``(person, SourcePhoto | None | PhotoSyncError)`` for each person, in any order, on at most
        ``max_concurrency`` workers; a run-wide error (401/403, TLS, configuration) is raised."""
        return prefetch_each(self.fetch, people, self.max_concurrency)


def from_params(params, template=None):
    """The URL source for module params (``url`` or ``template``, plus the ``url_*`` options)."""
    return UrlSource(
        url=None if template else params.get("url"), template=template,
        headers=params.get("url_headers"), timeout=params.get("url_timeout") or 30,
        max_bytes=params.get("url_max_bytes") or DEFAULT_MAX_BYTES,
        validate_certs=params.get("url_validate_certs", True) is not False, ca_cert=params.get("url_ca_cert"),
        username=params.get("url_username"), password=params.get("url_password"),
        bearer_token=params.get("url_bearer_token"))
