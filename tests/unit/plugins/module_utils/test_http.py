# -*- coding: utf-8 -*-
"""The HTTP client: retry policy (pure) and the client against a scripted loopback HTTP server.

The scripted server answers each path from a queue of canned answers, so a test
can say "429 with Retry-After, then 200" and check what the client did.  The
waits go through an injected sleep that records instead of sleeping.
"""

from __future__ import absolute_import, division, print_function

import email.utils
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _http
from ansible_collections.photosync.ad.plugins.module_utils._errors import RemoteServiceError


# --- the policy, pure ----------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2", 2.0), ("1.5", 1.5), (" 0.25 ", 0.25), ("-3", 0.0), ("", None), (None, None), ("soon", None),
])
def test_parse_retry_after_seconds(value, expected):
    assert _http.parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    now = 1700000000.0
    header = email.utils.formatdate(now + 7, usegmt=True)
    assert _http.parse_retry_after(header, now=now) == pytest.approx(7.0, abs=1.0)


def test_backoff_is_exponential_bounded_and_jittered():
    top = _http.RetryPolicy(base_delay=0.5, max_delay=4.0, rand=lambda: 1.0)
    assert [top.backoff(a) for a in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    bottom = _http.RetryPolicy(base_delay=0.5, max_delay=4.0, rand=lambda: 0.0)
    assert [bottom.backoff(a) for a in range(6)] == [0.0] * 6
    import random
    rng = random.Random(7)
    policy = _http.RetryPolicy(base_delay=0.5, max_delay=4.0, rand=rng.random)
    samples = [policy.backoff(3) for _sample in range(200)]
    assert 0.0 <= min(samples) and max(samples) <= 4.0 and len(set(samples)) > 150


def test_retry_after_honoured_and_capped():
    policy = _http.RetryPolicy(max_wait=10.0, rand=lambda: 1.0)
    assert policy.delay(0, 1.5) == 1.5
    assert policy.delay(4, 2) == 2
    assert policy.delay(0, 3600) == 10.0


class _Resp(object):
    def __init__(self, status, headers=None):
        self.status = status
        self.headers = headers or {}


def _scripted_send(answers):
    answers = list(answers)
    calls = []

    def send():
        calls.append(1)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    return send, calls


def test_run_waits_retry_after_then_succeeds():
    slept = []
    policy = _http.RetryPolicy(retries=5, sleep=slept.append, rand=lambda: 1.0)
    send, calls = _scripted_send([_Resp(429, {"Retry-After": "1.5"}), _Resp(503, {"Retry-After": "2"}), _Resp(200)])
    assert policy.run(send).status == 200
    assert slept == [1.5, 2.0] and len(calls) == 3


def test_run_5xx_bounded_then_returns_last():
    slept = []
    policy = _http.RetryPolicy(retries=3, base_delay=0.5, max_delay=30, sleep=slept.append, rand=lambda: 1.0)
    send, calls = _scripted_send([_Resp(500)] * 10)
    assert policy.run(send).status == 500
    assert len(calls) == 4 and slept == [0.5, 1.0, 2.0]


def test_run_counts_tries_made_elsewhere_toward_the_retries():
    """A $batch part that failed is the first try of that profile: retried alone, 1 + retries tries in all."""
    slept = []
    policy = _http.RetryPolicy(retries=3, base_delay=0.5, max_delay=30, sleep=slept.append, rand=lambda: 1.0)
    send, calls = _scripted_send([_Resp(500)] * 10)
    assert policy.run(send, attempt=1).status == 500
    assert len(calls) == 3 and slept == [1.0, 2.0]  # the backoff goes on from the second try


def test_run_final_status_not_retried():
    policy = _http.RetryPolicy(retries=3, sleep=lambda s: None)
    send, calls = _scripted_send([_Resp(500)] * 4)
    assert policy.run(send, final=(500,)).status == 500 and len(calls) == 1


def test_run_connection_errors_bounded():
    import requests
    slept = []
    policy = _http.RetryPolicy(retries=2, sleep=slept.append, rand=lambda: 0.5)
    send, calls = _scripted_send([requests.exceptions.ConnectionError("reset")] * 5)
    with pytest.raises(RemoteServiceError) as err:
        policy.run(send, describe="GET http://x")
    assert len(calls) == 3 and err.value.status is None and "3 attempts" in str(err.value)


def test_run_does_not_retry_tls_errors():
    import requests
    policy = _http.RetryPolicy(retries=4, sleep=lambda s: None)
    send, calls = _scripted_send([requests.exceptions.SSLError("bad cert")] * 5)
    with pytest.raises(requests.exceptions.SSLError):
        policy.run(send)
    assert len(calls) == 1


# --- the client against a scripted loopback server -------------------------------------------

class Scripted(object):
    """A loopback HTTP server answering each path from a list of (status, headers, body|'DROP', delay)."""

    def __init__(self):
        self.script = {}
        self.log = []
        self.inflight = 0
        self.peak = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.handle(self)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def handle(self, req):
        with self.lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self.log.append((time.time(), req.command, req.path, dict(req.headers)))
            answers = self.script.get(req.path.split("?")[0]) or [(404, {}, b"", 0)]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        status, headers, body, delay = answer
        finished = []

        def done():
            # A request stops counting as in flight before its answer goes out: once the client has
            # the answer it may start the next request, and counting after the write would race with it.
            if not finished:
                finished.append(True)
                with self.lock:
                    self.inflight -= 1
        try:
            length = int(req.headers.get("Content-Length") or 0)
            if length:
                req.rfile.read(length)
            if delay:
                time.sleep(delay)
            done()
            if body == "DROP":
                req.close_connection = True
                req.wfile.flush()
                req.connection.shutdown(2)
                return
            if body == "SHORT":
                req.send_response(200)
                req.send_header("Content-Length", "1000")
                req.end_headers()
                req.wfile.write(b"x" * 10)
                req.wfile.flush()
                req.close_connection = True
                req.connection.shutdown(2)
                return
            req.send_response(status)
            for k, v in headers.items():
                req.send_header(k, v)
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            req.wfile.write(body)
        finally:
            done()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    server = Scripted()
    yield server
    server.stop()


def _client(**kw):
    slept = []
    kw.setdefault("sleep", slept.append)
    kw.setdefault("rand", lambda: 1.0)
    client = _http.HttpClient("SharePoint", auth_method="ntlm", timeout=5, **kw)
    return client, slept


def test_client_429_retry_after_then_ok(scripted):
    scripted.script["/p"] = [(429, {"Retry-After": "1.5"}, b"", 0), (200, {"Content-Type": "image/jpeg"}, b"JPEG", 0)]
    client, slept = _client()
    response = client.request("GET", scripted.url + "/p")
    assert response.content == b"JPEG" and slept == [1.5] and len(scripted.log) == 2


def test_client_5xx_bounded_then_error_with_status(scripted):
    scripted.script["/p"] = [(502, {}, b"bad gateway", 0)]
    client, slept = _client(retries=2, base_delay=0.1)
    with pytest.raises(RemoteServiceError) as err:
        client.request("GET", scripted.url + "/p")
    assert err.value.status == 502 and len(scripted.log) == 3 and len(slept) == 2
    assert "HTTP 502" in str(err.value) and "retries" in str(err.value)


def test_client_dropped_connection_retried(scripted):
    scripted.script["/p"] = [(200, {}, "DROP", 0), (200, {}, "SHORT", 0), (200, {}, b"ok", 0)]
    client, slept = _client(base_delay=0.01)
    assert client.request("GET", scripted.url + "/p").content == b"ok"
    assert len(scripted.log) == 3 and len(slept) == 2


def test_client_401_403_hints_name_auth_and_permission(scripted):
    body = b'{"error": {"code": "-2147024891, System.UnauthorizedAccessException", ' \
           b'"message": {"lang": "en-US", "value": "Access denied."}}}'
    scripted.script["/a"] = [(401, {"WWW-Authenticate": "NTLM"}, b"", 0)]
    scripted.script["/b"] = [(403, {"Content-Type": "application/json"}, body, 0)]
    hints = {401: "check username/password (DOMAIN\\user)", 403: "needs Full Read on the User Profile service"}
    client, slept = _client(hint_for=hints.get)
    with pytest.raises(RemoteServiceError) as err:
        client.request("GET", scripted.url + "/a", user="alice")
    assert err.value.status == 401 and err.value.user == "alice" and "ntlm" in str(err.value)
    assert "DOMAIN\\user" in str(err.value)
    with pytest.raises(RemoteServiceError) as err:
        client.request("GET", scripted.url + "/b")
    assert err.value.status == 403 and "Access denied" in str(err.value) and "Full Read" in str(err.value)
    assert slept == []  # neither is retried


def test_client_404_is_none_and_size_cap(scripted):
    scripted.script["/big"] = [(200, {}, b"x" * 5000, 0)]
    client, slept = _client(max_bytes=4096)
    assert client.request("GET", scripted.url + "/missing") is None
    with pytest.raises(RemoteServiceError) as err:
        client.request("GET", scripted.url + "/big")
    assert "4096" in str(err.value)


def test_client_refuses_other_origins(scripted):
    client, slept = _client(allowed_origins=["https://sp.example.test"])
    with pytest.raises(RemoteServiceError) as err:
        client.request("GET", scripted.url + "/p")
    assert "refusing" in str(err.value) and scripted.log == []


def test_client_concurrency_cap(scripted):
    scripted.script["/slow"] = [(200, {}, b"ok", 0.15)]
    client, slept = _client(max_concurrency=2)
    results = []

    def worker():
        results.append(client.request("GET", scripted.url + "/slow").content)
    threads = [threading.Thread(target=worker) for _thread in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"ok"] * 6 and scripted.peak <= 2 and len(scripted.log) == 6


def test_url_origin():
    assert _http.url_origin("HTTPS://Sp.Example.Test:443/sites/x") == "https://sp.example.test"
    assert _http.url_origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert _http.url_origin("https://[::1]:4443/") == "https://[::1]:4443"


def test_service_error_message_shapes():
    verbose = b'{"error": {"code": "-1, X", "message": {"lang": "en-US", "value": "No."}}}'
    nometa = b'{"odata.error": {"code": "-1, X", "message": {"lang": "en-US", "value": "No."}}}'
    graph = b'{"error": {"code": "ImageNotFound", "message": "Exception of type ImageNotFoundException"}}'
    assert _http.service_error_message(verbose) == "-1, X: No."
    assert _http.service_error_message(nometa) == "-1, X: No."
    assert _http.service_error_message(graph).startswith("ImageNotFound: ")
    assert _http.service_error_message(b"<html>") is None
