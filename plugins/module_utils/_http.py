# -*- coding: utf-8 -*-
# Copyright: photosync.ad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, careful HTTP client for the SharePoint and Graph readers.

What it adds to ``requests``:

* bounded retries (``RetryPolicy``): 429/503 wait ``Retry-After`` (integer,
  fractional or an HTTP date, capped by ``max_wait``) or, without it, an
  exponential backoff with full jitter; 500/502/504, connection errors, dropped
  connections and timeouts are retried with the same backoff; never more than
  ``retries`` extra attempts;
* a cap on concurrent requests shared by every thread using one client
  (a ``threading.BoundedSemaphore``; the semaphore is released while waiting);
* a cap on the size of any response body (photos are small; a 2 GB answer is a bug);
* certificate validation on by default, ``ca_cert`` for a private CA;
* errors raised as ``RemoteServiceError(status=...)`` whose hint names the
  service, the authentication method and the right that is probably missing
  (the hint text comes from the caller, who knows the service).

One ``requests.Session`` per thread (created lazily, never in the constructor):
NTLM is connection-bound, and a session per thread keeps handshakes apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import re
import json
import math
import random
import threading
import time
import traceback
from collections import namedtuple
from urllib.parse import urlsplit

try:
    import requests
    import requests.exceptions
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

from ansible_collections.photosync.ad.plugins.module_utils._errors import (
    ConfigurationError,
    RemoteServiceError,
)

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
RETRY_AFTER_STATUSES = (429, 503)
TRANSIENT_STATUSES = (500, 502, 504)

# status, headers (case-insensitive mapping), content (bytes), url (final URL after redirects)
HttpResponse = namedtuple("HttpResponse", ["status", "headers", "content", "url"])


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


class RetryPolicy(object):
    """When and how long to wait before trying a request again.

    ``sleep`` and ``rand`` are injectable so unit tests can record the waits
    instead of sleeping.  ``waits`` keeps every delay actually slept, for reports.
    """

    def __init__(self, retries=5, base_delay=0.5, max_delay=30.0, max_wait=120.0, sleep=None, rand=None):
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

    def backoff(self, attempt):
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return self.rand() * ceiling

    def delay(self, attempt, retry_after=None):
        """The wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return self.backoff(attempt)

    def wait(self, attempt, retry_after=None):
        seconds = self.delay(attempt, retry_after)
        with self._lock:
            self.waits.append(seconds)
        if seconds > 0:
            self.sleep(seconds)
        return seconds

    def run(self, send, describe="request", final=()):
        """Call ``send()`` until it gives a final answer.

        Statuses in ``final`` are returned at once (a 500 that means "no such
        profile" is not worth five retries).
        ``send`` returns an object with ``status`` and ``headers`` (an
        ``HttpResponse``) or raises ``requests`` connection/timeouts errors.
        The last response is returned even when it is still a retryable status
        (the caller turns it into an error with the status); when every attempt
        raised, ``RemoteServiceError(status=None)`` is raised.
        """
        attempt = 0
        while True:
            try:
                response = send()
            except _retryable_exceptions() as exc:
                if HAS_REQUESTS and isinstance(exc, requests.exceptions.SSLError):
                    raise  # a certificate problem does not heal by retrying
                if attempt >= self.retries:
                    raise RemoteServiceError(
                        "%s failed after %d attempts: %s" % (describe, attempt + 1, _exc_text(exc)),
                        hint="The service did not answer; check the URL, the network and the service's health",
                    )
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
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self.wait(attempt, retry_after)
                attempt += 1
                continue
            return response


def _retryable_exceptions():
    if not HAS_REQUESTS:
        return (IOError,)
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
    return text if len(text) < 300 else text[:300] + "..."


def _tls_reason(exc):
    """The part of a requests/urllib3 SSL error a person can act on, not the wrapper chain around it."""
    text = str(exc)
    m = re.search(r"(certificate verify failed: [^'\"()]*|hostname '[^']*' doesn't match [^'\"()]*|"
                  r"doesn't match [^'\"()]*|wrong version number|unknown protocol)", text)
    return m.group(1).strip() if m else _exc_text(exc)


def service_error_message(content):
    """The human text from a SharePoint (both OData shapes) or Graph error body, or None."""
    if not content:
        return None
    try:
        doc = json.loads(content.decode("utf-8", "replace") if isinstance(content, bytes) else content)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    err = doc.get("error") or doc.get("odata.error")
    if not isinstance(err, dict):
        return None
    message = err.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    code = err.get("code")
    parts = [str(p) for p in (code, message) if p]
    return ": ".join(parts) or None


class HttpClient(object):
    """GET/POST with retries, a concurrency cap, a size cap and helpful errors.

    ``auth_factory`` returns a fresh ``requests`` auth object (one per thread's
    session) or None.  ``hint_for(status)`` returns the hint for an error status.
    ``allowed_hosts``: when set, credentials are only ever sent to these
    ``scheme://host[:port]`` origins (a profile's PictureURL must not make us
    send NTLM or a bearer token anywhere else).
    """

    def __init__(self, service, auth_method=None, auth_factory=None, timeout=30, validate_certs=True,
                 ca_cert=None, retries=5, max_concurrency=4, max_bytes=DEFAULT_MAX_BYTES, hint_for=None,
                 headers=None, sleep=None, rand=None, max_wait=120.0, base_delay=0.5, allowed_origins=None):
        if not HAS_REQUESTS:
            raise ConfigurationError("The Python library requests is required to talk to %s" % service,
                                     hint=REQUESTS_IMPORT_ERROR and "pip install requests")
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be 1 or more, not %r" % (max_concurrency,))
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
        self.policy = RetryPolicy(retries=retries, sleep=sleep, rand=rand, max_wait=max_wait, base_delay=base_delay)
        self.semaphore = threading.BoundedSemaphore(max_concurrency)
        self.max_concurrency = max_concurrency
        self.allowed_origins = set(o.lower() for o in allowed_origins) if allowed_origins else None
        self._local = threading.local()
        self._sessions = []
        self._sessions_lock = threading.Lock()
        self.request_count = 0

    # -- sessions -------------------------------------------------------------

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = self.verify
            session.headers.update(self.headers)
            if self.auth_factory is not None:
                session.auth = self.auth_factory()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
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

    def _send_once(self, method, url, headers, body, max_bytes):
        with self.semaphore:
            self.request_count += 1
            session = self._session()
            # verify per request: a session-level verify loses to REQUESTS_CA_BUNDLE in the environment
            response = session.request(method, url, headers=headers, data=body, timeout=self.timeout,
                                       stream=True, allow_redirects=True, verify=self.verify)
            try:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise RemoteServiceError(
                        "%s %s: the answer is %s bytes, more than the limit of %d" % (method, url, length, max_bytes),
                        status=response.status_code)
                chunks = []
                total = 0
                for chunk in response.iter_content(65536):
                    total += len(chunk)
                    if total > max_bytes:
                        raise RemoteServiceError(
                            "%s %s: the answer is more than the limit of %d bytes" % (method, url, max_bytes),
                            status=response.status_code)
                    chunks.append(chunk)
                content = b"".join(chunks)
                if length and length.isdigit() and response.headers.get("Content-Encoding") in (None, "identity") \
                        and len(content) < int(length):
                    raise _BodyTruncated("%d of %s bytes received" % (len(content), length))
            finally:
                response.close()
            return HttpResponse(response.status_code, response.headers, content, response.url)

    def request(self, method, url, headers=None, json_body=None, ok=(200,), none_on=(404,), user=None,
                max_bytes=None, final=()):
        """Send one request with retries; return ``HttpResponse``, None (status in ``none_on``) or raise."""
        self.check_origin(url, user=user)
        hdrs = {}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        limit = max_bytes or self.max_bytes
        describe = "%s %s" % (method, url)
        try:
            response = self.policy.run(lambda: self._send_once(method, url, hdrs, body, limit), describe=describe,
                                       final=final)
        except RemoteServiceError as exc:
            if exc.user is None:
                exc.user = user
            raise
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(url, exc, user)
        except requests.exceptions.RequestException as exc:
            raise RemoteServiceError("%s failed: %s" % (describe, _exc_text(exc)), user=user)
        if response.status in ok:
            return response
        if response.status in none_on:
            return None
        raise self.error(method, url, response, user=user)

    def _tls_error(self, url, exc, user):
        error = RemoteServiceError(
            "TLS to %s failed: %s" % (url_origin(url), _tls_reason(exc)), user=user,
            hint="Give the CA that signed the %s certificate as ca_cert (validate_certs: false only for tests)"
            % self.service)
        error.tls = True  # the same for every request: callers stop instead of going on per person
        return error

    def error(self, method, url, response, user=None):
        detail = service_error_message(response.content)
        message = "%s %s returned HTTP %d from %s" % (method, url, response.status, self.service)
        if self.auth_method:
            message += " (auth: %s)" % self.auth_method
        if detail:
            message += ": %s" % detail
        hint = self.hint_for(response.status) if self.hint_for else None
        if hint is None and response.status in RETRY_AFTER_STATUSES + TRANSIENT_STATUSES:
            hint = "Gave up after %d retries; try again later or lower max_concurrency" % self.policy.retries
        return RemoteServiceError(message, user=user, hint=hint, status=response.status)

    def get_json(self, url, headers=None, none_on=(404,), user=None):
        response = self.request("GET", url, headers=headers, none_on=none_on, user=user)
        if response is None:
            return None
        return decode_json(response, self.service, user=user)

    def post_json(self, url, body, headers=None, user=None):
        response = self.request("POST", url, headers=headers, json_body=body, none_on=(), user=user)
        return decode_json(response, self.service, user=user)


def decode_json(response, service, user=None):
    if not response.content:
        return None
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except ValueError as exc:
        raise RemoteServiceError("%s answered %s with something that is not JSON: %s" % (service, response.url, exc),
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
