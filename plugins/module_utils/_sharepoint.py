# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SharePoint (on-premises 2013 to Subscription Edition, and Online) as a photo source.

The option family ``sharepoint`` is defined once, in ``_remote_options.sharepoint_spec()``;
its documentation is ``plugins/doc_fragments/sharepoint.py`` (``DOCUMENTATION``).
Keep the two in step.

Only the handful of REST calls a photo reader needs (REFERENCE.md section 4):
the profile (``PeopleManager/GetPropertiesFor``), the thumbnail file beside the
profile's PictureURL, and people search for enumeration.  Never the Profile
Pictures folder listing (it fails above 5,000 files).

Many people at once (``SharePointSource.prefetch``): profiles are looked up
``batch_size`` at a time in one OData ``$batch`` request (SharePoint Online and
Server 2016 and later; the format is in ``_odata_batch``), then each photo file
is downloaded on the worker pool.  A server without ``$batch`` (SharePoint 2013)
is noticed on the first batch and the run goes on one request per person.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time
from collections import namedtuple
from urllib.parse import quote, urljoin, urlsplit, urlunsplit, parse_qs

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    PhotoSyncError,
    RemoteServiceError,
    SourceError,
)
from ansible_collections.photosync.ad.plugins.module_utils._http import (
    REDIRECT_STATUSES,
    RETRY_AFTER_STATUSES,
    TRANSIENT_STATUSES,
    HttpClient,
    HttpResponse,
    decode_json,
    redact_url,
    service_error_message,
    throttle_wait,
    url_origin,
)
from ansible_collections.photosync.ad.plugins.module_utils import _msauth, _odata_batch
from ansible_collections.photosync.ad.plugins.module_utils._photo import SourcePhoto
from ansible_collections.photosync.ad.plugins.module_utils._prefetch import (
    Later,
    mark_error,
    prefetch_each,
    prefetch_grouped,
)
# The option family is defined in the light _remote_options (re-exported here).
from ansible_collections.photosync.ad.plugins.module_utils._remote_options import (  # noqa: F401 pylint: disable=unused-import
    sharepoint_options, sharepoint_spec,
)

PEOPLE_SOURCE_ID = "b09a7990-05ea-4af9-81ef-edfab16c4e31"
STARTROW_CAP = 50000
SEARCH_PAGE_MAX = 500
ACCEPT = {
    "verbose": "application/json;odata=verbose",
    "nometadata": "application/json;odata=nometadata",
}
BATCH_SIZE_MAX = 100
# What a server without $batch (SharePoint 2013, a proxy that does not pass it) answers the POST with.
BATCH_REFUSED = (400, 404, 405, 501) + REDIRECT_STATUSES
# SharePoint's answer to a POST whose form digest is missing or stale (403, SPException -2130575252).
_DIGEST_REFUSED = ("-2130575252", "security validation")


def _apply_defaults(params, spec):
    """Fill defaults of a spec's suboptions into a plain dict (for callers outside AnsibleModule)."""
    out = dict(params or {})
    for name, opt in spec.items():
        if out.get(name) is None and "default" in opt:
            out[name] = opt["default"]
        elif name not in out:
            out[name] = None
    return out


def sharepoint_settings(params):
    settings = _apply_defaults(params, sharepoint_spec()["sharepoint"]["options"])
    if not settings.get("site_url"):
        raise ConfigurationError("sharepoint.site_url is required")
    if not settings.get("auth"):
        settings["auth"] = "token" if settings.get("token") else (
            "ntlm" if settings["flavor"] == "onprem" else "certificate")
    if settings["flavor"] == "online" and settings["auth"] in ("ntlm", "kerberos"):
        raise ConfigurationError("SharePoint Online does not take %s; use auth: certificate or token" % settings["auth"])
    if settings["photo_size"] not in ("L", "M", "S"):
        raise ConfigurationError("sharepoint.photo_size must be L, M or S")
    try:
        settings["batch_size"] = int(settings["batch_size"])
    except (TypeError, ValueError):
        raise ConfigurationError("sharepoint.batch_size must be a whole number, not %r" % (settings["batch_size"],))
    if not 0 <= settings["batch_size"] <= BATCH_SIZE_MAX:
        raise ConfigurationError("sharepoint.batch_size must be between 0 and %d, not %d" % (
            BATCH_SIZE_MAX, settings["batch_size"]), hint="0 or 1 looks every profile up with a request of its own")
    return settings


# --- account names -----------------------------------------------------------------

_TEMPLATE_FIELDS = (
    ("sAMAccountName", "sam_account_name"), ("sam", "sam_account_name"),
    ("userPrincipalName", "user_principal_name"), ("upn", "user_principal_name"),
    ("mail", "mail"), ("objectGUID", "object_guid"), ("objectSid", "object_sid"),
    ("dn", "dn"), ("displayName", "display_name"),
)


def claims_account(user, flavor, netbios_domain=None, template=None):
    """The SharePoint account name of a DirectoryUser.

    on-prem ``i:0#.w|DOMAIN\\sam``; online ``i:0#.f|membership|upn``; or
    ``template`` formatted with {sAMAccountName} {userPrincipalName} {mail}
    {objectGUID} {objectSid} {dn} {displayName} {netbios} (and {sam}, {upn}).
    """
    who = user.sam_account_name or user.user_principal_name or user.dn
    if template:
        values = {"netbios": netbios_domain}
        for name, attr in _TEMPLATE_FIELDS:
            values[name] = getattr(user, attr, None)
        try:
            fields = set(m.group(1) for m in re.finditer(r"{(\w+)}", template))
        except TypeError:
            fields = set()
        missing = sorted(f for f in fields if not values.get(f))
        if missing:
            raise SourceError("account_template %s needs %s, which this user does not have" % (
                template, ", ".join(missing)), user=who)
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError("account_template %s is not usable: %s" % (template, exc))
    if flavor == "online":
        if not user.user_principal_name:
            raise SourceError("has no userPrincipalName, which SharePoint Online needs", user=who)
        return "i:0#.f|membership|%s" % user.user_principal_name
    if not netbios_domain:
        raise ConfigurationError("the NetBIOS domain name is needed to build DOMAIN\\user account names",
                                 hint="Set sharepoint.account_template or let the directory report its NetBIOS name")
    if not user.sam_account_name:
        raise SourceError("has no sAMAccountName", user=who)
    return "i:0#.w|%s\\%s" % (netbios_domain, user.sam_account_name)


def account_from_name(name, flavor):
    """A claims account from what a person typed: a claim, ``DOMAIN\\user`` or a UPN."""
    name = name.strip()
    if name.lower().startswith(("i:0", "c:0")) or "|" in name:
        return name
    if flavor == "onprem" and "\\" in name:
        return "i:0#.w|" + name
    if flavor == "online" and "@" in name:
        return "i:0#.f|membership|" + name
    return name


def alias_literal(account):
    """The ``'...'`` OData literal for ``?@v=``: quotes doubled, everything but
    unreserved characters percent-encoded as UTF-8 (so ``# | \\ % + &`` and
    ``:`` become %23 %7C %5C %25 %2B %26 %3A)."""
    if isinstance(account, bytes):
        account = account.decode("utf-8")
    return "'%s'" % quote(account.replace("'", "''").encode("utf-8"), safe="'")


def odata_string(value):
    """An OData string literal for a query parameter (quotes doubled, URL-encoded)."""
    return "'%s'" % quote(value.replace("'", "''").encode("utf-8"), safe="*'")


# --- parsing both OData shapes ---------------------------------------------------------

PersonProfile = namedtuple("PersonProfile", ["account", "display_name", "email", "picture_url", "upn",
                                             "properties"])
Person = namedtuple("Person", ["account", "display_name", "email", "picture_url", "profile_guid", "doc_id"])


def _collection(value):
    """A list from ``{"results": [...]}`` (verbose), ``{"value": [...]}``, ``[...]`` or None."""
    if value is None:
        return []
    if isinstance(value, dict):
        for key in ("results", "value"):
            if key in value:
                return _collection(value[key])
        return []
    if not isinstance(value, list):
        raise _malformed("a collection is a %s, not a list" % type(value).__name__)
    return value


# Keys one of which every entity this client reads has (a profile - the null profile of the verbose shape
# too, with every field null -, a search answer).  A document with none of them is not an answer we know:
# reading it as "no profile" would turn a broken proxy or a changed API into "no photo".
_ENTITY_KEYS = ("AccountName", "UserProfileProperties", "PictureUrl", "query", "PrimaryQueryResult")


# Functions whose null result comes wrapped in the function's name ({"d": {"GetPropertiesFor": null}}).
_FUNCTIONS = ("GetPropertiesFor", "GetMyProperties", "GetUserProfilePropertyFor", "query", "postquery")


def _malformed(detail):
    return SourceError("SharePoint answered with a document this client does not understand (%s)" % detail,
                       hint="A proxy or login page in between, or an unexpected SharePoint version; nothing is "
                            "changed for this person")


def _entity(doc):
    """The entity of a verbose (under ``d``) or nometadata (top level) answer; None for a null.

    Anything else (an empty body, JSON that is not an object, an unknown shape) raises SourceError: it
    is never "no profile"."""
    if doc is None:
        raise _malformed("an empty answer")
    if not isinstance(doc, dict):
        raise _malformed("JSON %s, not an object" % type(doc).__name__)
    if doc.get("odata.null") is True:
        return None
    entity = doc["d"] if "d" in doc else doc
    if entity is None:
        return None
    if not isinstance(entity, dict):
        raise _malformed("the entity is a %s, not an object" % type(entity).__name__)
    # A function result wrapped in its name: {"d": {"GetPropertiesFor": null}}
    data_keys = [k for k in entity if k != "__metadata" and not k.startswith("odata.")]
    if len(data_keys) == 1 and (entity[data_keys[0]] is None or isinstance(entity[data_keys[0]], dict)) \
            and data_keys[0] not in ("UserProfileProperties",):
        inner = entity[data_keys[0]]
        if inner is None and data_keys[0] in _FUNCTIONS or inner is not None and (
                "AccountName" in inner or "PrimaryQueryResult" in inner):
            return inner
    if not any(key in entity for key in _ENTITY_KEYS):
        raise _malformed("none of %s in it" % ", ".join(_ENTITY_KEYS))
    return entity


def key_values(items):
    return dict((c.get("Key"), c.get("Value")) for c in _collection(items) if isinstance(c, dict))


def is_placeholder_profile(entity, props, flavor=None):
    """Whether SharePoint itself shows a placeholder for this profile instead of a photo.

    ``SPS-PicturePlaceholderState`` 1 means "show a placeholder" (0: the uploaded picture); the
    ``PictureURL`` property may still name an old ``_MThumb.jpg`` then.  On SharePoint Online a real
    photo always has the top-level ``PictureUrl`` (``PictureURL`` + ``?t=``), so a null one there is
    a placeholder too; on-premises it can be null beside a valid ``PictureURL``.
    """
    state = props.get("SPS-PicturePlaceholderState")
    if state is not None and str(state).strip() not in ("", "0"):
        return True
    return flavor == "online" and "PictureUrl" in entity and not entity.get("PictureUrl")


def parse_person_properties(doc, flavor=None):
    """A PersonProfile from a GetPropertiesFor answer in either OData shape, or None (no profile).

    A profile SharePoint shows with a placeholder picture has ``picture_url`` None."""
    entity = _entity(doc)
    if entity is None:
        return None
    props = key_values(entity.get("UserProfileProperties"))
    account = entity.get("AccountName") or props.get("AccountName")
    if not account and not props:
        return None
    picture = entity.get("PictureUrl") or props.get("PictureURL") or None
    if is_placeholder_profile(entity, props, flavor):
        picture = None
    return PersonProfile(
        account=account,
        display_name=entity.get("DisplayName") or props.get("PreferredName"),
        email=entity.get("Email") or props.get("WorkEmail") or None,
        picture_url=picture,
        upn=props.get("SPS-UserPrincipalName") or None,
        properties=props,
    )


def parse_context_info(doc):
    """``(FormDigestValue, FormDigestTimeoutSeconds)`` from a ``/_api/contextinfo`` answer in either shape."""
    if not isinstance(doc, dict):
        raise _malformed("the context information is %s, not an object" % type(doc).__name__)
    entity = doc.get("d", doc)
    if isinstance(entity, dict) and isinstance(entity.get("GetContextWebInformation"), dict):
        entity = entity["GetContextWebInformation"]
    value = entity.get("FormDigestValue") if isinstance(entity, dict) else None
    if not value or not isinstance(value, str):
        raise _malformed("no FormDigestValue in the context information")
    try:
        lifetime = float(entity.get("FormDigestTimeoutSeconds") or 1800)
    except (TypeError, ValueError):
        lifetime = 1800.0
    return value, lifetime


def parse_search_results(doc):
    """(rows as dicts, TotalRows) from a search/query answer in either OData shape."""
    entity = _entity(doc)
    if entity is None:
        return [], 0
    if "query" in entity:
        entity = entity["query"]
    relevant = ((entity.get("PrimaryQueryResult") or {}).get("RelevantResults")) or {}
    table = relevant.get("Table") or {}
    rows = [key_values(row.get("Cells")) for row in _collection(table.get("Rows"))]
    total = relevant.get("TotalRows")
    return rows, int(total) if total is not None else len(rows)


def parse_string_value(doc):
    """A primitive result: verbose ``{"d": {"Fn": "x"}}`` or nometadata ``{"value": "x"}``."""
    if doc is None or not isinstance(doc, dict):
        return None
    if "d" in doc:
        inner = doc["d"]
        if isinstance(inner, dict):
            values = [v for k, v in inner.items() if k != "__metadata"]
            return values[0] if len(values) == 1 else None
        return inner
    return doc.get("value")


# --- photo URLs -------------------------------------------------------------------

_THUMB_RE = re.compile(r"_[LMS]Thumb(\.[A-Za-z0-9]+)$", re.IGNORECASE)


def thumbnail_url(picture_url, size="L"):
    """The ``size`` thumbnail beside PictureURL (which names the M one).

    Only the file name changes, so localized folder names and SharePoint
    Online's ``?t=`` version token are kept.  A URL without the ``_MThumb``
    pattern is returned unchanged.
    """
    parts = urlsplit(picture_url)
    head, sep, last = parts.path.rpartition("/")
    new_last = _THUMB_RE.sub("_%sThumb\\1" % size.upper(), last)
    return urlunsplit((parts.scheme, parts.netloc, head + sep + new_last, parts.query, parts.fragment))


def is_placeholder(url):
    """The ``userphoto.aspx`` handler answers a stock picture for people without one."""
    return bool(url) and "userphoto.aspx" in urlsplit(url).path.lower()


def picture_version(url):
    """SharePoint Online's ``?t=`` token, or None."""
    values = parse_qs(urlsplit(url).query).get("t")
    return values[0] if values else None


# --- hints ----------------------------------------------------------------------------

def _permission_hint(flavor):
    if flavor == "online":
        return ("the Entra app needs the SharePoint User.Read.All and Sites.Read.All application "
                "permissions with admin consent")
    return ("the account needs read access to user profiles (Full Read on the User Profile service "
            "application's permissions) and read access to the My Site host (the User Photos library)")


def sharepoint_hint(status, auth, flavor, detail=None):
    if status == 401 and detail and "UnauthorizedAccessException" in detail:
        # SharePoint 2013 answers "access denied" as a 401: the sign-in worked, a permission is missing.
        return "401 with access denied: the credentials were accepted, but " + _permission_hint(flavor)
    if status == 401:
        return {
            "ntlm": "401 from SharePoint with NTLM: check username/password (DOMAIN\\user) and that the web "
                    "application offers NTLM",
            "kerberos": "401 from SharePoint with Kerberos: get a ticket (kinit), check the site's HTTP SPN and that "
                        "the web application offers Negotiate",
            "certificate": "401 from SharePoint Online with an app-only token: the Entra app needs a certificate "
                           "credential (client secrets are refused: 'Unsupported app only token') and the SharePoint "
                           "Sites.Read.All and User.Read.All application permissions with admin consent",
            "token": "401 from SharePoint with a bearer token: it is expired, for another audience (it must be for "
                     "https://<tenant>.sharepoint.com) or not an app-only certificate token",
        }.get(auth)
    if status == 403:
        return "403: " + _permission_hint(flavor)
    if status in (500, 502, 503, 504):
        return ("SharePoint still answered HTTP %d after the retries. A server error is never taken as 'no "
                "profile' or 'no photo', so nothing is decided for this person; try again later" % status)
    return None


# --- the client --------------------------------------------------------------------

class SharePointClient(object):
    """REST reads against one SharePoint site (and its My Site host)."""

    def __init__(self, settings, sleep=None, rand=None, http=None):
        self.settings = sharepoint_settings(settings)
        s = self.settings
        self.flavor = s["flavor"]
        self.auth = s["auth"]
        self.site_url = s["site_url"].rstrip("/")
        self.mysite_url = s["mysite_url"].rstrip("/") if s.get("mysite_url") else None
        self.photo_size = s["photo_size"]
        self.accept = ACCEPT[s["odata"]]
        origins = [url_origin(self.site_url)]
        if self.mysite_url:
            origins.append(url_origin(self.mysite_url))
        if self.flavor == "online":
            # tenant.sharepoint.com -> tenant-my.sharepoint.com (the My Site host of SharePoint Online)
            parts = urlsplit(self.site_url)
            host = (parts.hostname or "").lower()
            if host.endswith(".sharepoint.com") and "-my." not in host:
                tenant = host.split(".", 1)[0]
                origins.append("https://%s-my.%s" % (tenant, host.split(".", 1)[1]))
        self.http = http or HttpClient(
            "SharePoint", auth_method=self.auth, auth_factory=self._auth_factory(), timeout=s["timeout"],
            validate_certs=s["validate_certs"], ca_cert=s["ca_cert"], retries=s["retries"],
            max_concurrency=s["max_concurrency"],
            hint_for=lambda status, detail=None: sharepoint_hint(status, self.auth, self.flavor, detail),
            headers={"Accept": self.accept}, sleep=sleep, rand=rand, allowed_origins=origins,
            max_wait=s.get("max_retry_wait"))
        self.batch_size = s["batch_size"]
        # Whether the site answers $batch: None until the first batch says so, then True or False.
        self.batch_supported = None
        self.batch_requests = 0
        self.warnings = []  # said once per run, for the module to show (module.warn)
        self._state_lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._digest_lock = threading.Lock()
        self._digest = None
        self._digest_expires = 0.0

    def _auth_factory(self):
        s = self.settings
        if self.auth == "ntlm":
            return _msauth.ntlm_auth_factory(s.get("username"), s.get("password"))
        if self.auth == "kerberos":
            return _msauth.kerberos_auth_factory()
        provider = _msauth.token_provider(s, "SharePoint")
        self.token_provider = provider
        # One token per host: SharePoint Online's My Site host is its own resource.
        return lambda: _msauth.BearerAuth(provider, url_origin)

    def describe(self):
        return "SharePoint %s (%s, %s)" % (self.site_url, self.flavor, self.auth)

    # -- profiles ------------------------------------------------------------------

    def profile_url(self, account):
        return "%s/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v=%s" % (
            self.site_url, alias_literal(account))

    def get_profile(self, account, user=None, attempt=0):
        """PersonProfile or None (no profile).

        Only what SharePoint answers for an unknown account is "no profile": a null object
        (``{"odata.null": true}``, or the verbose entity with every field null), or a 404 that says
        ``UserNotFoundException``.  A 5xx is retried like any other request and then raised: an
        outage must never read as "this person has no photo".  ``attempt``: tries already made
        (a failed ``$batch`` part counts as one), so retries stay within ``retries`` in all.
        """
        who = user or account
        response = self.http.request("GET", self.profile_url(account), none_on=(), ok=(200, 404), user=who,
                                     attempt=attempt)
        if response.status == 404:
            detail = service_error_message(response.content) or ""
            if "UserNotFoundException" in detail:
                return None
            raise self.http.error("GET", self.profile_url(account), response, user=who)
        return parse_person_properties(decode_json(response, "SharePoint", user=who), self.flavor)

    # -- many profiles in one request ($batch) ----------------------------------------------

    def batch_url(self):
        return self.site_url + "/_api/$batch"

    def context_info_url(self):
        return self.site_url + "/_api/contextinfo"

    def needs_form_digest(self):
        """Windows sign-ins (NTLM, Kerberos) need a form digest on every POST; bearer tokens do not."""
        return self.auth in ("ntlm", "kerberos")

    def form_digest(self, refresh=False):
        """The site's form digest (``POST /_api/contextinfo``), kept until shortly before it expires."""
        with self._digest_lock:
            if not refresh and self._digest and time.monotonic() < self._digest_expires:
                return self._digest
            response = self.http.request("POST", self.context_info_url(), none_on=())
            value, lifetime = parse_context_info(decode_json(response, "SharePoint"))
            self._digest = value
            self._digest_expires = time.monotonic() + max(30.0, lifetime - 60.0)
            return value

    def lookup_profiles(self, items):
        """Profiles of up to ``batch_size`` people in one ``$batch`` request.

        ``items``: ``(account, who)`` pairs.  Returns one answer per item, in order:

        * ``("profile", PersonProfile | None)``: the part answered (None: no profile);
        * ``("error", PhotoSyncError)``: that person's error (named for them);
        * ``("alone", retry_after, attempts)``: look this person up with a request of its own, after
          the retry wait when ``attempts`` (tries already made) is not 0.

        Every part keeps the rules of ``get_profile``: a null object or a 404 UserNotFoundException is
        no profile; a 429/5xx part is retried alone (the part counts as the first try) and then that
        person's error; a 401/403 part is run-wide.  A batch still failing with 500/502/504 or a
        timeout after its retries is split (each person alone, so one bad profile costs only that
        person); one still throttled (429/503) is an error for each of its people.  A server that
        refuses the batch (400, 404, 405, 501, a redirect, an answer that is not multipart) has no
        ``$batch``: batching stops for the rest of the run, said once in ``warnings``, and every
        person is looked up alone, so nobody is lost.  A 401 is raised (run-wide).
        """
        if self.batch_supported is None:
            with self._probe_lock:  # until a first batch has shown whether $batch works, one at a time
                if self.batch_supported is None:
                    return self._batch(items)
        if self.batch_supported is False:
            return [("alone", None, 0)] * len(items)
        return self._batch(items)

    def _batch(self, items):
        urls = [self.profile_url(account) for account, dummy in items]
        content_type, body = _odata_batch.build_batch(urls, {"Accept": self.accept})
        headers = {"Content-Type": content_type}
        try:
            if self.needs_form_digest():
                try:
                    headers["X-RequestDigest"] = self.form_digest()
                except PhotoSyncError as exc:
                    mark_error(exc)
                    if exc.run_wide and getattr(exc, "status", None) != 403:
                        raise
                    if _transient(exc):  # try the digest again with the next batch; these people alone
                        return [("alone", None, 0)] * len(items)
                    return self._refused("no form digest for the POST: %s" % exc.message, items)
            response = self._post_batch(headers, body)
        except PhotoSyncError as exc:
            mark_error(exc)
            if exc.run_wide:
                raise
            if getattr(exc, "status", None) in RETRY_AFTER_STATUSES:
                # Still throttled after the retries: more requests would only deepen the throttling.
                return [("error", _error_for(exc, who)) for dummy, who in items]
            # 500/502/504, a timeout or a dropped connection after the retries: one bad or slow profile
            # may be the cause, so each person is looked up alone and only that person fails.
            return [("alone", None, 0)] * len(items)
        if response.status in BATCH_REFUSED:
            detail = service_error_message(response.content)
            return self._refused("POST %s answered HTTP %d%s" % (
                redact_url(self.batch_url()), response.status, (": %s" % detail) if detail else ""), items)
        try:
            parts = _odata_batch.parse_batch(response.headers.get("Content-Type"), response.content)
        except _odata_batch.BatchFormatError as exc:
            return self._refused("its answer is not a batch answer: %s" % exc, items)
        self.batch_supported = True
        return [self._part_answer(account, who, parts[i] if i < len(parts) else None)
                for i, (account, who) in enumerate(items)]

    def _post_batch(self, headers, body):
        url = self.batch_url()
        ok = (200, 202, 403) + BATCH_REFUSED

        def send(hdrs):
            with self._state_lock:
                self.batch_requests += 1
            return self.http.request("POST", url, headers=hdrs, body=body, ok=ok, none_on=(), final=BATCH_REFUSED)

        response = send(headers)
        if response.status == 403 and "X-RequestDigest" in headers:
            detail = (service_error_message(response.content) or "").lower()
            if any(mark in detail for mark in _DIGEST_REFUSED):  # the digest expired early: a new one, once
                response = send(dict(headers, **{"X-RequestDigest": self.form_digest(refresh=True)}))
        if response.status == 403:
            raise self.http.error("POST", url, response)
        return response

    def _refused(self, reason, items):
        with self._state_lock:
            if self.batch_supported is not False:
                self.batch_supported = False
                self.warnings.append(
                    "SharePoint at %s does not take $batch requests (%s); profiles are looked up with one request "
                    "per person for the rest of this run. SharePoint 2013 has no $batch: set sharepoint.batch_size "
                    "to 0 there to skip the attempt" % (self.site_url, reason))
        return [("alone", None, 0)] * len(items)

    def _part_answer(self, account, who, part):
        url = self.profile_url(account)
        if part is None:  # the answer has fewer parts than the request: ask again alone
            return ("alone", None, 0)
        if isinstance(part, _odata_batch.MalformedPart):
            return ("error", SourceError(
                "SharePoint's $batch answer for this person's profile is not an HTTP response (%s)" % part.reason,
                user=who, hint="A proxy in between or an unexpected SharePoint version; nothing is changed for "
                               "this person"))
        response = HttpResponse(part.status, part.headers, part.body, url)
        if part.status == 200:
            try:
                return ("profile", parse_person_properties(decode_json(response, "SharePoint", user=who), self.flavor))
            except PhotoSyncError as exc:
                return ("error", mark_error(exc, who))
        if part.status == 404:
            if "UserNotFoundException" in (service_error_message(part.body) or ""):
                return ("profile", None)
        elif part.status in RETRY_AFTER_STATUSES or part.status in TRANSIENT_STATUSES:
            asked = throttle_wait(part.headers) if part.status in RETRY_AFTER_STATUSES else None
            if self.http.policy.retries > 0 and not self.http.policy.too_long(asked):
                return ("alone", asked, 1)
        return ("error", mark_error(self.http.error("GET", url, response, user=who), who))

    def picture_location(self, profile):
        """Absolute URL of the chosen thumbnail, or None for no photo (none set, or the placeholder)."""
        if profile is None or not profile.picture_url or is_placeholder(profile.picture_url):
            return None
        base = (self.mysite_url or self.site_url) + "/"
        return urljoin(base, profile.picture_url)

    def fetch_photo(self, account, user=None, profile=None):
        """SourcePhoto of ``account`` or None when the person has no profile or no photo."""
        who = user or account
        if profile is None:
            profile = self.get_profile(account, user=who)
        picture = self.picture_location(profile)
        if picture is None:
            return None
        candidates = [thumbnail_url(picture, self.photo_size)]
        if candidates[0] != picture:
            candidates.append(picture)  # an older profile may lack the L/S files: fall back to PictureURL
        for url in candidates:
            response = self.http.request("GET", url, headers={"Accept": "image/*, */*;q=0.5"}, user=who)
            if response is None:
                continue
            if is_placeholder(response.url):
                return None
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip() or None
            if content_type and (content_type.startswith("text/") or "json" in content_type):
                raise SourceError("%s answered %s instead of a picture" % (url, content_type), user=who,
                                  hint="A login or error page came back; check authentication and the My Site URL")
            version = picture_version(url) or response.headers.get("ETag") or response.headers.get("Last-Modified")
            return SourcePhoto(response.content, version, url, content_type)
        return None

    # -- enumeration ---------------------------------------------------------------

    def search_url(self, querytext, startrow, rowlimit):
        return ("%s/_api/search/query?querytext=%s&sourceid=%s&selectproperties=%s&rowlimit=%d&startrow=%d"
                "&sortlist=%s&trimduplicates=false" % (
                    self.site_url, odata_string(querytext), odata_string(PEOPLE_SOURCE_ID),
                    odata_string("AccountName,PreferredName,WorkEmail,PictureURL,UserProfile_GUID,DocId"),
                    rowlimit, startrow, odata_string("[docid]:ascending")))

    def iter_people(self, page_size=SEARCH_PAGE_MAX, startrow_cap=STARTROW_CAP):
        """Every person from people search: startrow paging, then ``IndexDocId>{last}`` past the cap
        (or as soon as a startrow page is refused with 500)."""
        page_size = max(1, min(int(page_size), SEARCH_PAGE_MAX))
        startrow = 0
        last_doc = None
        by_docid = False
        seen = set()
        while True:
            if not by_docid and startrow + page_size > startrow_cap:
                if last_doc is None:
                    raise SourceError("people search results carry no DocId; cannot page past row %d" % startrow)
                by_docid = True
            if by_docid:
                doc = self.http.get_json(self.search_url("* IndexDocId>%s" % last_doc, 0, page_size), none_on=())
            elif startrow and last_doc is not None:
                # A farm whose startrow limit is lower than we assume answers 500 (SPQueryThrottledException):
                # switch to IndexDocId paging at once instead of retrying a page that will never come.
                response = self.http.request("GET", self.search_url("*", startrow, page_size), none_on=(500,),
                                             final=(500,))
                if response is None:
                    by_docid = True
                    continue
                doc = decode_json(response, "SharePoint")
            else:
                doc = self.http.get_json(self.search_url("*", startrow, page_size), none_on=())
            rows, _total = parse_search_results(doc)
            new = 0
            for row in rows:
                doc_id = row.get("DocId") or row.get("IndexDocId")
                account = row.get("AccountName")
                key = doc_id if doc_id is not None else account
                if doc_id is not None:
                    last_doc = doc_id
                if key in seen:
                    continue
                seen.add(key)
                new += 1
                yield Person(account, row.get("PreferredName"), row.get("WorkEmail") or None,
                             row.get("PictureURL") or None, row.get("UserProfile_GUID"), doc_id)
            if len(rows) < page_size or new == 0:
                return
            startrow += len(rows)


def _who(user):
    return user.sam_account_name or user.user_principal_name or user.dn


def _transient(exc):
    """A failure that may be gone on the next request: a timeout, a dropped connection, 429 or 5xx."""
    status = getattr(exc, "status", None)
    return bool(getattr(exc, "timeout", False)) or status in RETRY_AFTER_STATUSES or status in TRANSIENT_STATUSES


def _error_for(exc, who):
    """A copy of an error that concerns a whole batch, named for one of its people."""
    if isinstance(exc, RemoteServiceError):
        error = RemoteServiceError(exc.message, user=who, hint=exc.hint, status=exc.status)
    else:
        error = SourceError(exc.message, user=who, hint=exc.hint)
    error.run_wide = getattr(exc, "run_wide", False)
    error.timeout = getattr(exc, "timeout", False)
    return error


class SharePointSource(object):
    """The ``sharepoint`` photo source: ``fetch(DirectoryUser) -> SourcePhoto | None``."""

    normalize = True  # profile photos go through the image pipeline like any other source

    def __init__(self, settings, netbios_domain=None, sleep=None, rand=None):
        self.client = SharePointClient(settings, sleep=sleep, rand=rand)
        self.netbios_domain = netbios_domain
        self.template = self.client.settings.get("account_template")

    def account(self, user):
        return claims_account(user, self.client.flavor, self.netbios_domain, self.template)

    def fetch(self, user):
        who = _who(user)
        try:
            account = self.account(user)
            return self.client.fetch_photo(account, user=who)
        except PhotoSyncError as exc:
            raise mark_error(exc, who)

    def prefetch(self, people, workers=None):
        """``(person, SourcePhoto | None | PhotoSyncError)`` for each person, in any order; people are
        consumed lazily.  Profiles are looked up ``batch_size`` at a time in ``$batch`` requests and the
        photo files downloaded on a bounded worker pool (``max_concurrency`` workers); with
        ``batch_size`` 0 or 1, or on a server without ``$batch``, one request per profile."""
        workers = workers or self.client.settings["max_concurrency"]
        if self.client.batch_size <= 1:
            return prefetch_each(self.fetch, people, workers)
        return prefetch_grouped(self._lookup, self._finish, people, self.client.batch_size, workers)

    def _lookup(self, group):
        """``(person, None | PhotoSyncError | Later)`` for each person of ``group``, after one ``$batch``."""
        answers = []
        wanted = []
        for person in group:
            who = _who(person)
            try:
                wanted.append((person, self.account(person), who))
            except PhotoSyncError as exc:
                answers.append((person, mark_error(exc, who)))
        if not wanted:
            return answers
        looked_up = self.client.lookup_profiles([(account, who) for dummy, account, who in wanted])
        for (person, account, who), answer in zip(wanted, looked_up):
            if answer[0] == "error":
                answers.append((person, answer[1]))
            elif answer[0] == "alone":
                answers.append((person, Later(("alone", account, who) + tuple(answer[1:]))))
            elif self.client.picture_location(answer[1]) is None:
                answers.append((person, None))  # no profile, no picture, or the placeholder
            else:
                answers.append((person, Later(("photo", account, who, answer[1]))))
        return answers

    def _finish(self, person, payload):
        """The photo of one person the batch left to do: download it, or look the profile up alone first."""
        kind, account, who = payload[:3]
        try:
            if kind == "photo":
                return self.client.fetch_photo(account, user=who, profile=payload[3])
            retry_after, attempts = payload[3], payload[4]
            if attempts:
                self.client.http.policy.wait(attempts - 1, retry_after)
            profile = self.client.get_profile(account, user=who, attempt=attempts)
            if profile is None:
                return None
            return self.client.fetch_photo(account, user=who, profile=profile)
        except PhotoSyncError as exc:
            raise mark_error(exc, who)

    def warnings(self):
        """What a user should be told once about this run (for example: the site has no $batch)."""
        return list(self.client.warnings)

    def describe(self):
        return self.client.describe()


def build_remote_source(params, netbios_domain=None, sleep=None, rand=None):
    """The SharePoint or Graph source for module params holding ``sharepoint`` or ``graph``; None for neither."""
    sharepoint = params.get("sharepoint")
    graph = params.get("graph")
    if sharepoint and graph:
        raise ConfigurationError("give either sharepoint or graph, not both")
    if sharepoint:
        return SharePointSource(sharepoint, netbios_domain, sleep=sleep, rand=rand)
    if graph:
        from ansible_collections.photosync.ad.plugins.module_utils._graph import GraphSource
        return GraphSource(graph, sleep=sleep, rand=rand)
    return None
