# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph (Microsoft 365 / Entra ID) as a photo source.

The option family ``graph`` is defined once, in ``_remote_options.graph_spec()``; its
documentation is ``plugins/doc_fragments/sharepoint.py`` (attribute ``GRAPH``).
Keep the two in step.

Calls (REFERENCE.md section 4): ``/users/{id|upn}/photo/$value`` (largest) or
``/photos/{size}/$value``, ``/users/{id}/photo`` (metadata, ``mediaEtag``),
``$batch`` of up to 20 requests, ``/users`` paging with ``@odata.nextLink``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re
import uuid
from urllib.parse import quote

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    PhotoSyncError,
    RemoteServiceError,
    SourceError,
)
from ansible_collections.photosync.ad.plugins.module_utils._http import (
    HttpClient,
    RETRY_AFTER_STATUSES,
    TRANSIENT_STATUSES,
    throttle_wait,
    url_origin,
)
from ansible_collections.photosync.ad.plugins.module_utils import _msauth
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import bounded_map, mark_error

# The option family is defined in the light _remote_options (re-exported here).
from ansible_collections.photosync.ad.plugins.module_utils._remote_options import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_GRAPH_URL, GRAPH_PHOTO_SIZES as PHOTO_SIZES, graph_options, graph_spec,
)

BATCH_LIMIT = 20
# Graph's token resource per cloud; any other graph_url (a proxy, a test server) still takes Graph tokens.
GRAPH_RESOURCES = ("https://graph.microsoft.com", "https://graph.microsoft.us", "https://dod-graph.microsoft.us",
                   "https://microsoftgraph.chinacloudapi.cn")


def graph_resource(graph_url):
    origin = url_origin(graph_url)
    return origin if origin in GRAPH_RESOURCES else DEFAULT_GRAPH_URL


def graph_settings(params):
    spec = graph_spec()["graph"]["options"]
    settings = dict(params or {})
    for name, opt in spec.items():
        if settings.get(name) is None:
            settings[name] = opt.get("default")
    if not settings.get("auth"):
        settings["auth"] = "token" if settings.get("token") else "certificate"
    if settings["photo_size"] not in ("original",) + PHOTO_SIZES:
        raise ConfigurationError("graph.photo_size must be original or one of %s" % ", ".join(PHOTO_SIZES))
    return settings


def graph_hint(status, auth, detail=None):
    if status == 401:
        if auth == "token":
            return ("401 from Graph with a bearer token: it is expired or not for https://graph.microsoft.com "
                    "(scope https://graph.microsoft.com/.default)")
        return ("401 from Graph with a certificate app-only token: check tenant_id, client_id and that the "
                "certificate is uploaded to the Entra app registration")
    if status == 403:
        return "403: the Entra app needs the User.Read.All application permission with admin consent"
    return None


def odata_quote(value):
    return "'%s'" % value.replace("'", "''")


def immutable_id(object_guid):
    """Entra's onPremisesImmutableId of a synced user: base64 of the AD objectGUID bytes (little-endian GUID)."""
    return base64.b64encode(uuid.UUID(object_guid).bytes_le).decode("ascii")


def _batch_body(item):
    """Bytes of a $batch response body: base64 text for binary answers, JSON for errors."""
    body = item.get("body")
    if body is None:
        return b""
    if isinstance(body, (dict, list)):
        return None
    if not isinstance(body, str):
        return None
    text = "".join(body.split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        pass
    # OData 4.01 says base64url (- and _ instead of + and /, padding optional); Graph sends standard
    # base64 in practice: accept both.
    if re.match(r"^[A-Za-z0-9_-]*={0,2}$", text):
        try:
            return base64.urlsafe_b64decode(text + "=" * (-len(text.rstrip("=")) % 4))
        except (binascii.Error, ValueError, TypeError):
            return None
    return None


def _etag(value):
    """The photo's ETag as Graph's mediaEtag spells it (weak ETag prefix dropped), or None."""
    if not value:
        return None
    value = value.strip()
    return value[2:] if value.startswith("W/") else value


def _lower_headers(headers):
    return dict((str(k).lower(), v) for k, v in (headers or {}).items())


class _HeaderView(object):
    """``get(name)`` case-insensitively over a dict whose keys are already lower case."""

    def __init__(self, lowered):
        self.lowered = lowered

    def get(self, name, default=None):
        return self.lowered.get(name.lower(), default)


class GraphClient(object):
    """Photo reads from Microsoft Graph v1.0."""

    def __init__(self, settings, sleep=None, rand=None, http=None):
        self.settings = graph_settings(settings)
        s = self.settings
        self.auth = s["auth"]
        self.graph_url = s["graph_url"].rstrip("/")
        self.base = self.graph_url + "/v1.0"
        self.photo_size = s["photo_size"]
        if http is None:
            provider = _msauth.token_provider(s, "Graph")
            self.token_provider = provider
            resource = graph_resource(self.graph_url)
            http = HttpClient(
                "Graph", auth_method=self.auth, auth_factory=lambda: _msauth.BearerAuth(provider, resource),
                timeout=s["timeout"], validate_certs=s["validate_certs"], ca_cert=s["ca_cert"],
                retries=s["retries"], max_concurrency=s["max_concurrency"],
                hint_for=lambda status, detail=None: graph_hint(status, self.auth, detail),
                headers={"Accept": "application/json"}, sleep=sleep, rand=rand,
                allowed_origins=[url_origin(self.graph_url)], max_wait=s.get("max_retry_wait"))
        self.http = http
        self._ids = {}

    def describe(self):
        return "Microsoft Graph %s (%s)" % (self.graph_url, self.auth)

    def _user_path(self, uid):
        return "/users/%s" % quote(uid, safe="@")

    def photo_path(self, uid, size=None):
        size = size or self.photo_size
        if size == "original":
            return self._user_path(uid) + "/photo/$value"
        return self._user_path(uid) + "/photos/%s/$value" % size

    def photo_metadata(self, uid, user=None):
        """``{"@odata.mediaEtag": ..., "width": ..., ...}`` or None when the user has no photo."""
        return self.http.get_json(self.base + self._user_path(uid) + "/photo", user=user or uid)

    def fetch_photo(self, uid, user=None, size=None):
        """SourcePhoto or None (404 ImageNotFound, or no such user)."""
        who = user or uid
        url = self.base + self.photo_path(uid, size)
        response = self.http.request("GET", url, headers={"Accept": "image/*, */*;q=0.5"}, user=who)
        if response is None:
            return None
        version = _etag(response.headers.get("ETag"))
        if not version:
            meta = self.photo_metadata(uid, user=who) or {}
            version = meta.get("@odata.mediaEtag")
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip() or None
        return SourcePhoto(response.content, version, url, content_type)

    def fetch_photos(self, uids, size=None):
        """Many photos through ``$batch`` (20 a request).

        Returns ``{uid: SourcePhoto | None | PhotoSyncError}``: a per-user error
        is handed back, not raised, so one person does not stop a run.  Items
        answered 429/503/5xx are sent again (in a later batch) after the largest
        ``Retry-After`` among them, at most ``retries`` times.
        """
        results = {}
        pending = list(dict.fromkeys(uids))
        attempt = 0
        while pending:
            retry = []
            retry_after = None
            for start in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[start:start + BATCH_LIMIT]
                requests_ = [{"id": str(i), "method": "GET", "url": self.photo_path(uid, size)}
                             for i, uid in enumerate(chunk)]
                doc = self.http.post_json(self.base + "/$batch", {"requests": requests_}) or {}
                answered = set()
                for item in doc.get("responses") or []:
                    try:
                        uid = chunk[int(item.get("id"))]
                    except (TypeError, ValueError, IndexError):
                        continue
                    answered.add(uid)
                    status = int(item.get("status") or 0)
                    headers = _lower_headers(item.get("headers"))
                    if status == 200:
                        data = _batch_body(item)
                        if data is None:
                            results[uid] = SourceError("Graph $batch gave an unreadable photo body", user=uid)
                        else:
                            content_type = (headers.get("content-type") or "").split(";")[0].strip() or None
                            results[uid] = SourcePhoto(data, _etag(headers.get("etag")), self.base + self.photo_path(uid, size),
                                                       content_type)
                    elif status == 404:
                        results[uid] = None
                    elif (status in RETRY_AFTER_STATUSES or status in TRANSIENT_STATUSES) and \
                            attempt < self.http.policy.retries and \
                            not self.http.policy.too_long(throttle_wait(_HeaderView(headers))):
                        retry.append(uid)
                        wait = throttle_wait(_HeaderView(headers))
                        if wait is not None:
                            retry_after = wait if retry_after is None else max(retry_after, wait)
                    else:
                        body = item.get("body")
                        detail = None
                        if isinstance(body, dict):
                            err = body.get("error") or {}
                            detail = ": ".join(str(p) for p in (err.get("code"), err.get("message")) if p) or None
                        error = RemoteServiceError(
                            "Graph $batch item %s returned HTTP %d%s" % (
                                self.photo_path(uid, size), status, (": " + detail) if detail else ""),
                            user=uid, status=status, hint=graph_hint(status, self.auth, detail))
                        error.run_wide = status in (401, 403)
                        results[uid] = error
                for uid in chunk:
                    if uid not in answered:
                        retry.append(uid)
            if not retry:
                break
            self.http.policy.wait(attempt, retry_after)
            attempt += 1
            pending = retry
            if attempt > self.http.policy.retries:
                for uid in pending:
                    results[uid] = RemoteServiceError("Graph $batch gave no answer for this user", user=uid)
                break
        return results

    def iter_users(self, select=("id", "userPrincipalName", "mail", "displayName"), top=999, filter=None):
        """Every user, following ``@odata.nextLink`` (which must stay on the Graph host)."""
        url = "%s/users?$select=%s&$top=%d" % (self.base, ",".join(select), top)
        if filter:
            url += "&$filter=" + quote(filter, safe="")
        while url:
            doc = self.http.get_json(url, none_on=()) or {}
            yield from doc.get("value") or []
            url = doc.get("@odata.nextLink")

    def find_user_id(self, prop, value, user=None):
        """The Graph id of the one user whose ``prop`` equals ``value``, or None (cached)."""
        key = (prop, value)
        if key not in self._ids:
            found = list(self.iter_users(select=("id",), top=2, filter="%s eq %s" % (prop, odata_quote(value))))
            if len(found) > 1:
                raise SourceError("more than one Entra user has %s %s" % (prop, value), user=user)
            self._ids[key] = found[0]["id"] if found else None
        return self._ids[key]


PREFETCH_CHUNK = 200


def _who(user):
    return user.sam_account_name or user.user_principal_name or user.dn


def _for_person(exc, who):
    """A $batch item's error, named for the person (one uid may serve several people)."""
    error = RemoteServiceError(exc.message, user=who, hint=exc.hint, status=getattr(exc, "status", None)) \
        if isinstance(exc, RemoteServiceError) else exc
    error.run_wide = getattr(exc, "run_wide", False)
    if isinstance(exc, RemoteServiceError):
        error.user = who
    return error


_FIELDS = (
    ("sAMAccountName", "sam_account_name"), ("userPrincipalName", "user_principal_name"),
    ("mail", "mail"), ("objectGUID", "object_guid"), ("objectSid", "object_sid"), ("dn", "dn"),
)


class GraphSource(object):
    """The ``graph`` photo source: ``fetch(DirectoryUser) -> SourcePhoto | None``."""

    normalize = True  # profile photos go through the image pipeline like any other source

    def __init__(self, settings, sleep=None, rand=None):
        self.client = GraphClient(settings, sleep=sleep, rand=rand)
        s = self.client.settings
        self.user_key = s["user_key"]
        self.template = s.get("user_template")

    def user_id(self, user):
        """The id or UPN to put in ``/users/{...}``, or None when Entra has no such user."""
        who = user.sam_account_name or user.user_principal_name or user.dn
        if self.template:
            values = dict((name, getattr(user, attr, None)) for name, attr in _FIELDS)
            fields = set(re.findall(r"{(\w+)}", self.template))
            missing = sorted(f for f in fields if not values.get(f))
            if missing:
                raise SourceError("user_template needs %s, which this user does not have" % ", ".join(missing),
                                  user=who)
            try:
                return self.template.format(**values)
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigurationError("graph.user_template %s is not usable: %s" % (self.template, exc))
        if self.user_key == "userPrincipalName":
            if not user.user_principal_name:
                raise SourceError("has no userPrincipalName", user=who)
            return user.user_principal_name
        if self.user_key == "mail":
            if not user.mail:
                raise SourceError("has no mail", user=who)
            return self.client.find_user_id("mail", user.mail, user=who)
        if not user.object_guid:
            raise SourceError("has no objectGUID", user=who)
        return self.client.find_user_id("onPremisesImmutableId", immutable_id(user.object_guid), user=who)

    def fetch(self, user):
        who = _who(user)
        try:
            uid = self.user_id(user)
            if uid is None:
                return None
            return self.client.fetch_photo(uid, user=who)
        except PhotoSyncError as exc:
            raise mark_error(exc, who)

    def prefetch(self, people, chunk=PREFETCH_CHUNK):
        """``(person, SourcePhoto | None | PhotoSyncError)`` for each person, in any order, through
        ``$batch`` (20 photos a request).  People are taken ``chunk`` at a time, so memory stays
        bounded; user lookups (``user_key: mail`` and the like) run on the worker pool.  A run-wide
        error (401/403, TLS, configuration) is raised."""
        workers = self.client.settings["max_concurrency"]
        batch = []
        for person in people:
            batch.append(person)
            if len(batch) >= chunk:
                yield from self._prefetch_chunk(batch, workers)
                batch = []
        if batch:
            yield from self._prefetch_chunk(batch, workers)

    def _prefetch_chunk(self, people, workers):
        def resolve(person):
            try:
                return self.user_id(person)
            except PhotoSyncError as exc:
                return mark_error(exc, _who(person))

        uids = dict(bounded_map(resolve, people, workers))
        for got in uids.values():
            if isinstance(got, PhotoSyncError) and got.run_wide:
                raise got
        wanted = [uid for uid in uids.values() if isinstance(uid, str)]
        try:
            results = self.client.fetch_photos(wanted) if wanted else {}
        except PhotoSyncError as exc:
            mark_error(exc)
            if exc.run_wide:
                raise
            results = dict((uid, exc) for uid in wanted)
        for person in people:
            uid = uids.get(person)
            if uid is None or isinstance(uid, PhotoSyncError):
                yield person, uid
                continue
            got = results.get(uid)
            if isinstance(got, PhotoSyncError):
                if got.run_wide:
                    raise mark_error(got, _who(person))
                got = _for_person(got, _who(person))
            yield person, got

    def describe(self):
        return self.client.describe()
