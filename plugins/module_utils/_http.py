# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, careful HTTP client for the URL, SharePoint and Graph sources.

What it adds to ``requests``:

* bounded retries (``RetryPolicy``): 429/503 wait the greater of ``Retry-After``
  (integer, fractional or an HTTP date) and ``RateLimit-Reset`` (seconds); a
  server asking for more than ``max_wait`` is not retried (waiting less than
  asked only earns another 429).  Without those headers an exponential backoff
  with full jitter; 500/502/504, connection errors, dropped connections and
  timeouts are retried with the same backoff; never more than ``retries`` extra
  attempts;
* an optional deadline for a whole request (retries, redirects and the body
  included): a server trickling one byte a second is cut off when it passes;
* redirects followed by hand: only http and https, at most ``MAX_REDIRECTS``,
  and a hop to another origin (scheme, host, port) carries no credentials at
  all (no auth, no headers given by the user, no cookies);
* a cap on concurrent requests shared by every thread using one client
  (a ``threading.BoundedSemaphore``; the semaphore is released while waiting);
* a cap on the size of any response body, and an optional look at the headers
  and the first bytes before the rest is read (a photo source refuses an HTML
  page before downloading it);
* certificate validation on by default, ``ca_cert`` for a private CA;
* errors raised as ``RemoteServiceError(status=...)`` whose hint names the
  service, the authentication method and the right that is probably missing
  (the hint text comes from the caller, who knows the service); a password in
  a URL never appears in a message.

``requests`` is imported on first use, not when this module is imported: a task
that reads a file must not pay for it.

The option family of the HTTP settings (``validate_certs``, ``ca_cert``,
``timeout``, ``retries``, ``max_concurrency``, ``max_retry_wait``) is defined
once, by ``_remote_options.http_options_spec()``; its documentation is the doc fragment
``plugins/doc_fragments/http_options.py``.  Keep the two in step.

One ``requests.Session`` per thread (created lazily, never in the constructor):
NTLM is connection-bound, and a session per thread keeps handshakes apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import importlib.util
import re
import json
import math
import random
import socket
import threading
import time
from collections import namedtuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    RemoteServiceError,
)

# The HTTP option family is defined in the light _remote_options (re-exported here).
from ansible_collections.photosync.ad.plugins.module_utils._remote_options import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_MAX_WAIT, http_options_spec,
)

# Whether requests can be imported; it is imported only when a client really sends something.
HAS_REQUESTS = importlib.util.find_spec("requests") is not None
REQUESTS_IMPORT_ERROR = None if HAS_REQUESTS else "ModuleNotFoundError: No module named 'requests'"

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 10
RETRY_AFTER_STATUSES = (429, 503)
TRANSIENT_STATUSES = (500, 502, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Headers that may follow a redirect to another origin: nothing that can carry a credential.
CROSS_ORIGIN_HEADERS = ("accept", "accept-language", "user-agent")

# status, headers (case-insensitive mapping), content (bytes), url (final URL after redirects)
HttpResponse = namedtuple("HttpResponse", ["status", "headers", "content", "url"])

_REQUESTS = []


def _requests():
    """The requests module, imported on first use."""
    if not _REQUESTS:
        if not HAS_REQUESTS:
            raise ConfigurationError("The Python library requests is required for this source",
                                     hint="pip install requests")
        import requests
        import requests.adapters
        import requests.exceptions
        _REQUESTS.append(requests)
    return _REQUESTS[0]


def redact_url(url):
    """``url`` without a password (``http://user:pass@host`` -> ``http://user:********@host``)."""
    if not url or "@" not in str(url):
        return url
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return re.sub(r"//[^/@]*@", "//********@", str(url))
    if parts.password is None and "@" not in parts.netloc:
        return url
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = "%s:********@%s" % (user, hostport) if ":" in userinfo else "%s@%s" % (user, hostport)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header value, or None when absent or unreadable.

    Accepts integer and fractional seconds ("2", "1.5") and HTTP dates.
    Negative values become 0.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if now is None:
            now = time.time()
        seconds = when.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def throttle_wait(headers):
    """Seconds a throttled answer asks us to wait: the greater of ``Retry-After`` and
    ``RateLimit-Reset`` (SharePoint Online's guidance), or None when neither is readable."""
    if headers is None:
        return None
    waits = [parse_retry_after(headers.get("Retry-After"))]
    reset = headers.get("RateLimit-Reset")
    if reset is not None:
        try:
            seconds = float(str(reset).strip())
        except ValueError:
            seconds = None
        if seconds is not None and not (math.isnan(seconds) or math.isinf(seconds)):
            waits.append(max(0.0, seconds))
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


class RetryPolicy(object):
    """When and how long to wait before trying a request again.

    ``sleep`` and ``rand`` are injectable so unit tests can record the waits
    instead of sleeping.  ``waits`` keeps every delay actually slept, for reports.
    """

    def __init__(self, retries=5, base_delay=0.5, max_delay=30.0, max_wait=DEFAULT_MAX_WAIT, sleep=None, rand=None):
        if retries < 0:
            raise ConfigurationError("retries must be 0 or more, not %r" % (retries,))
        self.retries = retries
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_wait = float(max_wait)
        self.sleep = sleep or time.sleep
        self.rand = rand or random.random
        self.waits = []
        self._lock = threading.Lock()

    @property
    def retried(self):
        return len(self.waits)

    @property
    def waited(self):
        return sum(self.waits)

    def backoff(self, attempt):
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return self.rand() * ceiling

    def delay(self, attempt, retry_after=None):
        """The wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return self.backoff(attempt)

    def too_long(self, retry_after):
        """A server asking for more than ``max_wait`` is not retried: waiting less earns another 429."""
        return retry_after is not None and retry_after > self.max_wait

    def wait(self, attempt, retry_after=None):
        seconds = self.delay(attempt, retry_after)
        with self._lock:
            self.waits.append(seconds)
        if seconds > 0:
            self.sleep(seconds)
        return seconds

    def run(self, send, describe="request", final=(), deadline=None, attempt=0):
        """Call ``send()`` until it gives a final answer.

        Statuses in ``final`` are returned at once.  ``attempt``: how many tries of the same request
        were already made elsewhere (a ``$batch`` part that failed counts as one), so the total stays
        at most ``1 + retries``.
        ``send`` returns an object with ``status`` and ``headers`` (an
        ``HttpResponse``) or raises ``requests`` connection/timeouts errors.
        The last response is returned even when it is still a retryable status
        (the caller turns it into an error with the status); when every attempt
        raised, ``RemoteServiceError(status=None)`` is raised.  ``deadline`` (a
        ``time.monotonic()`` value) stops retrying once a wait would pass it.
        """
        while True:
            try:
                response = send()
            except _retryable_exceptions() as exc:
                if HAS_REQUESTS and isinstance(exc, _requests().exceptions.SSLError):
                    raise  # a certificate problem does not heal by retrying
                seconds = self.delay(attempt)
                if attempt >= self.retries or _past(deadline, seconds):
                    error = RemoteServiceError(
                        "%s failed after %d attempts: %s" % (describe, attempt + 1, _exc_text(exc)),
                        hint="The service did not answer; check the URL, the network and the service's health",
                    )
                    error.timeout = True
                    raise error
                self.wait(attempt)
                attempt += 1
                continue
            status = response.status
            if status in final:
                return response
            if status in RETRY_AFTER_STATUSES or status in TRANSIENT_STATUSES:
                if attempt >= self.retries:
                    return response
                retry_after = None
                if status in RETRY_AFTER_STATUSES:
                    retry_after = throttle_wait(response.headers)
                    if self.too_long(retry_after):
                        return response
                if _past(deadline, self.delay(attempt, retry_after)):
                    return response
                self.wait(attempt, retry_after)
                attempt += 1
                continue
            return response


def _past(deadline, seconds):
    return deadline is not None and time.monotonic() + (seconds or 0) >= deadline


def _retryable_exceptions():
    if not HAS_REQUESTS:
        return (IOError,)
    requests = _requests()
    return (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        _BodyTruncated,
    )


class _BodyTruncated(Exception):
    """The connection dropped in the middle of a body (fewer bytes than Content-Length)."""


def _exc_text(exc):
    text = str(exc) or exc.__class__.__name__
    text = re.sub(r"//[^/@\s'\"]*@", "//********@", text)  # urllib3 repeats URLs with their userinfo
    return text if len(text) < 300 else text[:300] + "..."


def _tls_reason(exc):
    """The part of a requests/urllib3 SSL error a person can act on, not the wrapper chain around it."""
    text = str(exc)
    m = re.search(r"(certificate verify failed: [^'\"()]*|hostname '[^']*' doesn't match [^'\"()]*|"
                  r"doesn't match [^'\"()]*|wrong version number|unknown protocol)", text)
    return m.group(1).strip() if m else _exc_text(exc)


def service_error_message(content, headers=None):
    """The human text from a SharePoint (both OData shapes), Entra/SharePoint Online token error
    (``error_description``) or Graph error body, or None.  ``headers``: a 401's
    ``WWW-Authenticate`` may carry ``error_description`` too."""
    parts = []
    doc = None
    if content:
        try:
            doc = json.loads(content.decode("utf-8", "replace") if isinstance(content, bytes) else content)
        except ValueError:
            doc = None
    if isinstance(doc, dict):
        err = doc.get("error") or doc.get("odata.error")
        if isinstance(err, dict):
            message = err.get("message")
            if isinstance(message, dict):
                message = message.get("value")
            parts.extend(str(p) for p in (err.get("code"), message) if p)
        elif isinstance(err, str) and not doc.get("error_description"):
            parts.append(err)
        if doc.get("error_description"):
            parts.append(str(doc["error_description"]).splitlines()[0])
    if headers is not None and not parts:
        challenge = headers.get("WWW-Authenticate") or ""
        m = re.search(r'error_description="([^"]*)"', challenge)
        if m:
            parts.append(m.group(1))
    return ": ".join(parts) or None


def is_image_start(data):
    """Whether the first bytes of a body look like an image format the pipeline reads."""
    head = bytes(data[:16])
    return (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM",
                             b"II*\x00", b"MM\x00*"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or head[4:8] == b"ftyp")


class _DeadlineWatch(object):
    """Cuts the connections of one request when its deadline passes.

    Socket timeouts bound each read, not a whole answer: a server sending one byte
    a second never trips them.  A timer shuts the request's sockets down instead,
    which makes the blocked read return at once.
    """

    def __init__(self, deadline):
        self.deadline = deadline
        self.expired = False
        self.conns = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, conn):
        with self._lock:
            self.conns.append(conn)
            if self.expired:
                _shutdown(conn)

    def _fire(self):
        with self._lock:
            self.expired = True
            for conn in self.conns:
                _shutdown(conn)

    def cancel(self):
        self._timer.cancel()


def _shutdown(conn):
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


_WATCH = threading.local()


def _tracking_pool_classes():
    """urllib3 connection pools that hand every connection they give out to the thread's deadline watch."""
    _requests()
    import urllib3

    def tracked(base):
        class Pool(base):
            def _get_conn(self, timeout=None):
                conn = base._get_conn(self, timeout=timeout)
                watch = getattr(_WATCH, "current", None)
                if watch is not None:
                    watch.attach(conn)
                return conn
        Pool.__name__ = "Deadline" + base.__name__
        return Pool

    return {"http": tracked(urllib3.HTTPConnectionPool), "https": tracked(urllib3.HTTPSConnectionPool)}


class HttpClient(object):
    """GET/POST with retries, a concurrency cap, a size cap and helpful errors.

    ``auth_factory`` returns a fresh ``requests`` auth object (one per thread's
    session) or None.  ``hint_for(status, detail)`` returns the hint for an error
    status (``detail``: the service's error text, or None).
    ``allowed_origins``: when set, requests are only ever started at these
    ``scheme://host[:port]`` origins (a profile's PictureURL must not make us
    send NTLM or a bearer token anywhere else).  ``headers`` are sent with every
    request to the request's own origin; a redirect to another origin carries
    none of them, no auth and no cookies.  ``deadline``: seconds one request may
    take in all (retries, redirects and body included), or None.
    """

    def __init__(self, service, auth_method=None, auth_factory=None, timeout=30, validate_certs=True,
                 ca_cert=None, retries=5, max_concurrency=4, max_bytes=DEFAULT_MAX_BYTES, hint_for=None,
                 headers=None, sleep=None, rand=None, max_wait=DEFAULT_MAX_WAIT, base_delay=0.5,
                 allowed_origins=None, deadline=None, user_agent="photosync.ad", ca_option="ca_cert"):
        if not HAS_REQUESTS:
            raise ConfigurationError("The Python library requests is required to talk to %s" % service,
                                     hint="pip install requests")
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be 1 or more, not %r" % (max_concurrency,))
        if max_wait is not None and max_wait < 0:
            raise ConfigurationError("max_retry_wait must be 0 or more, not %r" % (max_wait,))
        self.service = service
        self.auth_method = auth_method
        self.auth_factory = auth_factory
        self.timeout = timeout
        self.verify = ca_cert if ca_cert else bool(validate_certs)
        self.validate_certs = validate_certs
        self.ca_cert = ca_cert
        self.max_bytes = max_bytes
        self.hint_for = hint_for
        self.headers = dict(headers or {})
        self.user_agent = user_agent
        self.deadline = deadline
        self.ca_option = ca_option
        self.policy = RetryPolicy(retries=retries, sleep=sleep, rand=rand,
                                  max_wait=DEFAULT_MAX_WAIT if max_wait is None else max_wait, base_delay=base_delay)
        self.semaphore = threading.BoundedSemaphore(max_concurrency)
        self.max_concurrency = max_concurrency
        self.allowed_origins = set(o.lower() for o in allowed_origins) if allowed_origins else None
        self._local = threading.local()
        self._sessions = []
        self._sessions_lock = threading.Lock()
        self.request_count = 0

    # -- sessions -------------------------------------------------------------

    def _new_session(self, credentials):
        requests = _requests()
        session = requests.Session()
        session.verify = self.verify
        if self.user_agent:
            session.headers["User-Agent"] = self.user_agent
        if credentials:
            session.headers.update(self.headers)
            if self.auth_factory is not None:
                session.auth = self.auth_factory()
        if self.deadline:
            for scheme in ("http://", "https://"):
                adapter = requests.adapters.HTTPAdapter()
                adapter.poolmanager.pool_classes_by_scheme = _tracking_pool_classes()
                session.mount(scheme, adapter)
        with self._sessions_lock:
            self._sessions.append(session)
        return session

    def _session(self, credentials=True):
        name = "session" if credentials else "bare_session"
        session = getattr(self._local, name, None)
        if session is None:
            session = self._new_session(credentials)
            setattr(self._local, name, session)
        return session

    def close(self):
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    # -- requests -------------------------------------------------------------

    def check_origin(self, url, user=None):
        if self.allowed_origins is None:
            return
        origin = url_origin(url)
        if origin not in self.allowed_origins:
            raise RemoteServiceError(
                "refusing to send %s credentials to %s (not one of %s)" % (
                    self.service, origin, ", ".join(sorted(self.allowed_origins))),
                user=user,
                hint="If that host belongs to your farm, add it as the My Site URL (mysite_url)",
            )

    def _send_once(self, method, url, headers, body, max_bytes, inspect=None, deadline=None):
        """One request, redirects followed by hand; credentials only ever go to ``url``'s origin."""
        origin = url_origin(url)
        current = url
        hops = 0
        while True:
            same = url_origin(current) == origin
            hdrs = headers if same else dict((k, v) for k, v in headers.items()
                                             if k.lower() in CROSS_ORIGIN_HEADERS)
            response = self._exchange(method, current, hdrs, body if same else None, max_bytes, same,
                                      inspect, deadline)
            location = response.headers.get("Location")
            if response.status not in REDIRECT_STATUSES or not location or method not in ("GET", "HEAD"):
                return response
            hops += 1
            target = urljoin(current, location.strip())
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise RemoteServiceError(
                    "%s %s redirected to %s, which is not http or https: refused" % (
                        method, redact_url(current), redact_url(target)),
                    status=response.status)
            if hops > MAX_REDIRECTS:
                raise RemoteServiceError("%s %s: more than %d redirects" % (method, redact_url(url), MAX_REDIRECTS),
                                         status=response.status)
            current = target

    def _exchange(self, method, url, headers, body, max_bytes, credentials, inspect, deadline):
        requests = _requests()
        timeout = self.timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise requests.exceptions.Timeout("no time left")
            timeout = min(self.timeout, left) if self.timeout else left
        with self.semaphore:
            self.request_count += 1
            session = self._session(credentials)
            # verify per request: a session-level verify loses to REQUESTS_CA_BUNDLE in the environment
            response = session.request(method, url, headers=headers, data=body, timeout=timeout,
                                       stream=True, allow_redirects=False, verify=self.verify)
            try:
                if response.status_code in REDIRECT_STATUSES:
                    max_bytes = min(max_bytes, 65536)
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise _too_large(RemoteServiceError(
                        "%s %s: the answer is %s bytes, more than the limit of %d" % (
                            method, redact_url(url), length, max_bytes),
                        status=response.status_code))
                chunks = []
                total = 0
                first = True
                for chunk in response.iter_content(65536):
                    if first and inspect is not None and 200 <= response.status_code < 300:
                        inspect(response.headers, chunk)
                    first = False
                    total += len(chunk)
                    if total > max_bytes:
                        raise _too_large(RemoteServiceError(
                            "%s %s: the answer is more than the limit of %d bytes" % (
                                method, redact_url(url), max_bytes),
                            status=response.status_code))
                    chunks.append(chunk)
                if first and inspect is not None and 200 <= response.status_code < 300:
                    inspect(response.headers, b"")
                content = b"".join(chunks)
                if length and length.isdigit() and response.headers.get("Content-Encoding") in (None, "identity") \
                        and len(content) < int(length):
                    raise _BodyTruncated("%d of %s bytes received" % (len(content), length))
            finally:
                response.close()
            return HttpResponse(response.status_code, response.headers, content, response.url)

    def request(self, method, url, headers=None, json_body=None, ok=(200,), none_on=(404,), user=None,
                max_bytes=None, final=(), inspect=None, body=None, attempt=0):
        """Send one request with retries; return ``HttpResponse``, None (status in ``none_on``) or raise.

        ``inspect(headers, first_bytes)`` is called for a 2xx answer before the rest of its body
        is read, and may raise to refuse it.  ``body``: raw bytes to send (give their Content-Type in
        ``headers``); ``json_body``: a document sent as JSON.  ``attempt``: tries of this request
        already made elsewhere (see ``RetryPolicy.run``)."""
        requests = _requests()
        self.check_origin(url, user=user)
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        limit = max_bytes or self.max_bytes
        describe = "%s %s" % (method, redact_url(url))
        deadline = time.monotonic() + self.deadline if self.deadline else None
        watch = _DeadlineWatch(deadline) if deadline is not None else None
        _WATCH.current = watch
        try:
            response = self.policy.run(
                lambda: self._send_once(method, url, hdrs, body, limit, inspect, deadline),
                describe=describe, final=final, deadline=deadline, attempt=attempt)
        except Exception as exc:
            if watch is not None and (watch.expired or _past(deadline, 0)) and not isinstance(exc, ConfigurationError):
                raise self._deadline_error(describe, user)
            if isinstance(exc, RemoteServiceError):
                if exc.user is None:
                    exc.user = user
                raise
            if isinstance(exc, requests.exceptions.SSLError):
                raise self._tls_error(url, exc, user)
            if isinstance(exc, requests.exceptions.RequestException):
                error = RemoteServiceError("%s failed: %s" % (describe, _exc_text(exc)), user=user)
                error.timeout = isinstance(exc, requests.exceptions.Timeout)
                raise error
            raise
        finally:
            _WATCH.current = None
            if watch is not None:
                watch.cancel()
        if response.status in ok:
            return response
        if response.status in none_on:
            return None
        raise self.error(method, url, response, user=user)

    def _deadline_error(self, describe, user):
        error = RemoteServiceError(
            "%s did not finish within %s seconds" % (describe, _seconds(self.deadline)), user=user,
            hint="The server is too slow or sends the answer a trickle at a time; the timeout is for the whole "
                 "download, retries included")
        error.timeout = True
        return error

    def _tls_error(self, url, exc, user):
        error = RemoteServiceError(
            "TLS to %s failed: %s" % (url_origin(url), _tls_reason(exc)), user=user,
            hint="Give the CA that signed the %s certificate as %s (certificate validation off only for tests)"
            % (self.service, self.ca_option))
        error.tls = True  # the same for every request: callers stop instead of going on per person
        error.run_wide = True
        return error

    def error(self, method, url, response, user=None):
        detail = service_error_message(response.content, response.headers if response.status == 401 else None)
        message = "%s %s returned HTTP %d from %s" % (method, redact_url(url), response.status, self.service)
        if self.auth_method:
            message += " (auth: %s)" % self.auth_method
        if detail:
            message += ": %s" % detail
        hint = self.hint_for(response.status, detail) if self.hint_for else None
        if response.status in RETRY_AFTER_STATUSES:
            asked = throttle_wait(response.headers)
            if self.policy.too_long(asked):
                hint = ("%s asked to wait %s seconds before trying again, more than max_retry_wait (%s); raise "
                        "max_retry_wait or try again later" % (self.service, _seconds(asked),
                                                               _seconds(self.policy.max_wait)))
        if hint is None and response.status in RETRY_AFTER_STATUSES + TRANSIENT_STATUSES:
            hint = "Gave up after %d retries; try again later or lower max_concurrency" % self.policy.retries
        error = RemoteServiceError(message, user=user, hint=hint, status=response.status)
        if response.status in (401, 403):
            error.run_wide = True  # the same answer would come for everybody
        return error

    def get_json(self, url, headers=None, none_on=(404,), user=None):
        response = self.request("GET", url, headers=headers, none_on=none_on, user=user)
        if response is None:
            return None
        return decode_json(response, self.service, user=user)

    def post_json(self, url, body, headers=None, user=None):
        response = self.request("POST", url, headers=headers, json_body=body, none_on=(), user=user)
        return decode_json(response, self.service, user=user)


def _too_large(error):
    error.too_large = True
    return error


def _seconds(value):
    return ("%.1f" % value).rstrip("0").rstrip(".") if value is not None else "?"


def decode_json(response, service, user=None):
    if not response.content:
        return None
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except ValueError as exc:
        raise RemoteServiceError(
            "%s answered %s with something that is not JSON: %s" % (service, redact_url(response.url), exc),
            user=user, status=response.status,
            hint="Is the URL really the %s site? A login page answers HTML" % service)


def url_origin(url):
    """``scheme://host[:port]`` in lower case, default ports dropped."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = "[%s]" % host
    port = parts.port
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return "%s://%s" % (scheme, host)
    return "%s://%s:%d" % (scheme, host, port)
