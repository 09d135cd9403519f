# -*- coding: utf-8 -*-
"""The HTTP client under hostile or unusual servers, on real loopback sockets (issue 8, S3 and item 7).

Two origins are played by two servers on different ports (an origin is scheme, host and port), so a
redirect from one to the other is a cross-origin redirect as far as any client is concerned.
"""

from __future__ import absolute_import, division, print_function

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _http
from ansible_collections.photosync.ad.plugins.module_utils._errors import RemoteServiceError

JPEG = b"\xff\xd8\xff\xe0" + b"j" * 200


class Origin(object):
    """A loopback server; ``routes[path] = callable(handler)``; every request's headers are recorded."""

    def __init__(self):
        self.routes = {}
        self.seen = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.seen.append((self.path, dict((k.lower(), v) for k, v in self.headers.items())))
                route = owner.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                route(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def answer(status, body=b"", headers=None):
    def route(req):
        req.send_response(status)
        for key, value in (headers or {}).items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    return route


def trickle(total, every=1.0):
    """Announce ``total`` bytes and send one a second (each read finishes well inside any read timeout)."""
    def route(req):
        req.send_response(200)
        req.send_header("Content-Type", "image/jpeg")
        req.send_header("Content-Length", str(total))
        req.end_headers()
        try:
            for i in range(total):
                req.wfile.write(JPEG[i:i + 1] or b"x")
                req.wfile.flush()
                time.sleep(every)
        except (OSError, socket.error):
            pass
    return route


@pytest.fixture
def origins():
    a, b = Origin(), Origin()
    yield a, b
    a.stop()
    b.stop()


def client(**kw):
    kw.setdefault("sleep", lambda seconds: None)
    kw.setdefault("rand", lambda: 1.0)
    return _http.HttpClient("the photo URL's server", **kw)


def test_trickling_server_fails_at_the_deadline(origins):
    """Issue 8 S3: url_timeout was a per-read timeout, so a server sending one byte a second held the
    task until Ansible's own timeout.  Failed before the fix: the download ran for the whole trickle."""
    a, _b = origins
    a.routes["/slow.jpg"] = trickle(30, every=0.5)  # 15 s of trickle; each read well inside 2 s
    started = time.monotonic()
    with pytest.raises(RemoteServiceError) as err:
        client(timeout=2, deadline=2, retries=3).request("GET", a.url + "/slow.jpg")
    elapsed = time.monotonic() - started
    print("trickle cut after %.2f s (deadline 2 s)" % elapsed)
    assert "did not finish within 2 seconds" in str(err.value) and err.value.timeout
    assert elapsed < 10  # well before the 15 s the trickle would take; no retry after the deadline
    assert len(a.seen) == 1


def test_cross_origin_redirect_carries_no_credentials(origins):
    """Issue 8 S3: after a redirect to another origin, headers from url_headers (an Authorization
    header) were sent to the new host.  Credentials go only to the origin the user named."""
    a, b = origins
    a.routes["/photo"] = answer(302, headers={"Location": b.url + "/elsewhere.jpg", "Set-Cookie": "sid=s3cr3t"})
    b.routes["/elsewhere.jpg"] = answer(200, JPEG, {"Content-Type": "image/jpeg"})
    c = client(headers={"Authorization": "Bearer tok-123", "X-Api-Key": "key-456", "Cookie": "c=cookie-789"},
               auth_factory=lambda: ("basic-user", "basic-pass"))
    response = c.request("GET", a.url + "/photo", headers={"Accept": "image/*"})
    assert response.content == JPEG and response.url == b.url + "/elsewhere.jpg"
    sent_to_a = a.seen[0][1]
    assert sent_to_a["authorization"].startswith("Basic ") and sent_to_a["x-api-key"] == "key-456"
    sent_to_b = b.seen[0][1]
    for secret in ("tok-123", "key-456", "cookie-789", "s3cr3t", "Basic "):
        assert not any(secret in value for value in sent_to_b.values()), (secret, sent_to_b)
    assert "authorization" not in sent_to_b and "cookie" not in sent_to_b
    assert sent_to_b.get("accept") == "image/*"


def test_same_origin_redirect_keeps_credentials(origins):
    a, _b = origins
    a.routes["/old"] = answer(301, headers={"Location": "/new.jpg"})
    a.routes["/new.jpg"] = answer(200, JPEG, {"Content-Type": "image/jpeg"})
    c = client(headers={"Authorization": "Bearer tok-123"})
    assert c.request("GET", a.url + "/old").content == JPEG
    assert a.seen[1][0] == "/new.jpg" and a.seen[1][1]["authorization"] == "Bearer tok-123"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x.jpg", "gopher://127.0.0.1/"])
def test_redirect_to_other_schemes_is_refused(origins, location):
    a, _b = origins
    a.routes["/photo"] = answer(302, headers={"Location": location})
    with pytest.raises(RemoteServiceError) as err:
        client().request("GET", a.url + "/photo")
    assert "not http or https" in str(err.value) and len(a.seen) == 1


def test_redirect_loop_is_bounded(origins):
    a, _b = origins
    a.routes["/loop"] = answer(302, headers={"Location": "/loop"})
    with pytest.raises(RemoteServiceError) as err:
        client().request("GET", a.url + "/loop")
    assert "more than %d redirects" % _http.MAX_REDIRECTS in str(err.value)
    assert len(a.seen) == _http.MAX_REDIRECTS + 1


def test_oversize_body_without_length_is_cut_at_the_limit(origins):
    a, _b = origins
    total = 3 * 1024 * 1024

    def chunked(req):
        req.send_response(200)
        req.send_header("Content-Type", "image/jpeg")
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        block = b"x" * 65536
        try:
            for _i in range(total // len(block)):
                req.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            req.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
    a.routes["/big"] = chunked
    with pytest.raises(RemoteServiceError) as err:
        client(max_bytes=200000).request("GET", a.url + "/big")
    assert err.value.too_large and "200000" in str(err.value)


def test_inspect_refuses_before_the_rest_is_read(origins):
    a, _b = origins
    a.routes["/page"] = answer(200, b"<html>" + b"x" * 500000, {"Content-Type": "application/octet-stream"})
    looked = []

    def inspect(headers, first):
        looked.append(len(first))
        if not _http.is_image_start(first):
            raise RemoteServiceError("not an image")
    with pytest.raises(RemoteServiceError, match="not an image"):
        client().request("GET", a.url + "/page", inspect=inspect)
    assert looked and looked[0] <= 65536


def test_password_in_url_is_redacted():
    assert _http.redact_url("https://bob:hunter2@hr.example.com/p/1.jpg") == \
        "https://bob:********@hr.example.com/p/1.jpg"
    assert _http.redact_url("https://bob@hr.example.com/") == "https://bob@hr.example.com/"
    assert _http.redact_url("https://hr.example.com/a@b") == "https://hr.example.com/a@b"
    assert "hunter2" not in _http._exc_text(Exception("Max retries with url: http://u:hunter2@h:1/x"))


# --- throttling (issue 8 item 7) -----------------------------------------------------------------

def test_greater_of_retry_after_and_ratelimit_reset():
    """Issue 8 item 7: only Retry-After was read; SharePoint Online's guidance is the greater of
    Retry-After and RateLimit-Reset.  Failed before the fix: the policy waited 1 s, not 7."""
    slept = []
    policy = _http.RetryPolicy(retries=3, sleep=slept.append, rand=lambda: 1.0)

    class R(object):
        def __init__(self, status, headers):
            self.status, self.headers = status, headers
    answers = [R(429, {"Retry-After": "1", "RateLimit-Reset": "7"}), R(429, {"RateLimit-Reset": "2"}),
               R(503, {"Retry-After": "3", "RateLimit-Reset": "0"}), R(200, {})]
    assert policy.run(lambda: answers.pop(0)).status == 200
    assert slept == [7.0, 2.0, 3.0]
    assert _http.throttle_wait({"Retry-After": "1.5"}) == 1.5 and _http.throttle_wait({}) is None


def test_retry_after_beyond_max_retry_wait_is_not_retried_and_says_so(origins):
    """Issue 8 item 7: the 120 s cap on Retry-After was fixed and a longer wait was cut to 120 s (then
    throttled again).  Graph has asked for 315 s: the cap is an option, and a longer ask fails at once
    with the time the server asked for."""
    a, _b = origins
    a.routes["/t"] = answer(429, b"", {"Retry-After": "315"})
    slept = []
    c = client(max_wait=120, sleep=slept.append)
    with pytest.raises(RemoteServiceError) as err:
        c.request("GET", a.url + "/t")
    assert err.value.status == 429 and slept == [] and len(a.seen) == 1
    assert "asked to wait 315 seconds" in str(err.value) and "max_retry_wait" in str(err.value)
    a.seen[:] = []
    a.routes["/t"] = answer(429, b"", {"Retry-After": "315"})
    c = client(max_wait=400, sleep=slept.append, retries=1)
    with pytest.raises(RemoteServiceError):
        c.request("GET", a.url + "/t")
    assert slept == [315.0] and len(a.seen) == 2
    assert _http.http_options_spec()["max_retry_wait"]["default"] == 120


# --- error texts (issue 8 item 7) ---------------------------------------------------------------

def test_401_shows_error_description_from_body_and_challenge(origins):
    """Issue 8 item 7: SharePoint Online's 401 reason (error_description) was not shown.
    Failed before the fix: the message ended at 'HTTP 401 from SharePoint'."""
    a, _b = origins
    a.routes["/body"] = answer(401, b'{"error":"invalid_request","error_description":"Invalid issuer or signature."}',
                               {"Content-Type": "application/json"})
    a.routes["/hdr"] = answer(401, b"", {"WWW-Authenticate": 'Bearer realm="x", error="invalid_token", '
                                                             'error_description="Token expired."'})
    c = client()
    with pytest.raises(RemoteServiceError) as err:
        c.request("GET", a.url + "/body")
    assert "Invalid issuer or signature." in str(err.value)
    with pytest.raises(RemoteServiceError) as err:
        c.request("GET", a.url + "/hdr")
    assert "Token expired." in str(err.value) and err.value.run_wide


def test_tls_failure_is_run_wide(tmp_path):
    import ssl
    import subprocess
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.check_call(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                           "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RemoteServiceError) as err:
            client(ca_option="url_ca_cert").request("GET", "https://127.0.0.1:%d/x" % server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert err.value.run_wide and "url_ca_cert" in str(err.value) and "certificate verify failed" in str(err.value)
