# -*- coding: utf-8 -*-
"""The URL source (plugins/module_utils/_source_url.py) against real loopback HTTP servers:
fixed URL and per-person template, credentials, redaction, content checks, prefetch, lazy imports."""

from __future__ import absolute_import, division, print_function

import base64
import io
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _errors, _source_url, _sources
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser


def jpeg(seed=1):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed * 20 % 256, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


class Web(object):
    """path -> (status, headers, body); records (path, headers) of every request."""

    def __init__(self):
        self.files = {}
        self.seen = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.seen.append((self.path, dict((k.lower(), v) for k, v in self.headers.items())))
                status, headers, body = owner.files.get(self.path, (404, {}, b""))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.hostport = "127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web():
    server = Web()
    yield server
    server.stop()


def person(sam, employee_id=None, upn=None):
    user = DirectoryUser("CN=%s,OU=Staff,DC=example,DC=test" % sam, sam, upn or "%s@example.test" % sam,
                         "%s@example.test" % sam, None, None, sam)
    if employee_id is None:
        return user

    class WithAttributes(object):
        def __init__(self, base, attributes):
            self._base, self.attributes = base, attributes

        def __getattr__(self, name):
            return getattr(self._base, name)
    return WithAttributes(user, {"employeeID": employee_id})


def test_template_builds_one_url_per_person_with_encoded_values(web):
    web.files["/photos/E%2F42%20x.jpg"] = (200, {"Content-Type": "image/jpeg", "ETag": '"v1"'}, jpeg(1))
    web.files["/by-upn/bob%40example.test.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg(2))
    source = _source_url.UrlSource(template=web.url + "/photos/{employeeID}.jpg")
    photo = source.fetch(person("alice", employee_id="E/42 x"))
    assert photo.data == jpeg(1) and photo.version == '"v1"'
    assert photo.origin == web.url + "/photos/E%2F42%20x.jpg"  # the source key of this person
    assert source.attributes() == ["employeeID"] and "template" in source.describe()
    # 404 for a template means "no photo for this person"
    assert source.fetch(person("carol", employee_id="E99")) is None
    # a person without the value: an error for that person, naming the field
    with pytest.raises(_errors.SourceError, match=r"needs \{employeeID\}") as err:
        source.fetch(person("dave"))
    assert err.value.user == "dave"
    by_upn = _source_url.UrlSource(template=web.url + "/by-upn/{userPrincipalName}.jpg")
    assert by_upn.fetch(person("bob")).data == jpeg(2)


def test_fixed_url_404_is_an_error_not_no_photo(web):
    with pytest.raises(_errors.RemoteServiceError) as err:
        _source_url.UrlSource(web.url + "/missing.jpg").fetch(person("alice"))
    assert err.value.status == 404 and "Check the URL" in str(err.value)


@pytest.mark.parametrize("template", [
    "https://{host}/x.jpg", "https://hr.example.com{path}", "ftp://hr.example.com/{sAMAccountName}",
    "https://hr.example.com/static.jpg",
])
def test_template_refused_before_any_request(template):
    with pytest.raises(_errors.ConfigurationError):
        _source_url.UrlSource(template=template)


def test_password_in_url_is_used_but_never_shown(web):
    """Issue 8 S3: a password inside the URL (http://user:pass@...) was echoed in error messages.
    Failed before the fix: the 404 message and describe() carried 'hunter2'."""
    web.files["/p.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg(3))
    url = "http://svc:hunter2@%s/p.jpg" % web.hostport
    source = _source_url.UrlSource(url)
    photo = source.fetch(person("alice"))
    assert photo.data == jpeg(3)
    assert web.seen[0][1]["authorization"] == "Basic " + base64.b64encode(b"svc:hunter2").decode()
    assert "hunter2" not in source.describe() and "hunter2" not in photo.origin
    assert source.secrets() == ["hunter2"]
    for bad in ("http://svc:hunter2@%s/missing.jpg" % web.hostport, "http://svc:hunter2@127.0.0.1:1/x.jpg",
                "ftp://svc:hunter2@%s/x" % web.hostport):
        with pytest.raises(_errors.PhotoSyncError) as err:
            _source_url.UrlSource(bad, timeout=2).fetch(person("alice"))
        assert "hunter2" not in str(err.value) and "hunter2" not in (err.value.hint or ""), str(err.value)


def test_credential_options(web):
    web.files["/p.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg(4))
    _source_url.UrlSource(web.url + "/p.jpg", bearer_token="tok-1").fetch(person("a"))
    assert web.seen[-1][1]["authorization"] == "Bearer tok-1"
    _source_url.UrlSource(web.url + "/p.jpg", username="u", password="p w").fetch(person("a"))
    assert web.seen[-1][1]["authorization"] == "Basic " + base64.b64encode(b"u:p w").decode()
    _source_url.UrlSource(web.url + "/p.jpg", headers={"X-Api-Key": "k"}).fetch(person("a"))
    assert web.seen[-1][1]["x-api-key"] == "k" and "authorization" not in web.seen[-1][1]
    with pytest.raises(_errors.ConfigurationError):
        _source_url.UrlSource(web.url + "/p.jpg", bearer_token="t", username="u", password="p")
    web.files["/locked.jpg"] = (401, {"WWW-Authenticate": "Basic"}, b"")
    with pytest.raises(_errors.RemoteServiceError) as err:
        _source_url.UrlSource(web.url + "/locked.jpg", username="u", password="wrong").fetch(person("a"))
    assert err.value.status == 401 and err.value.run_wide and "url_username" in str(err.value)


def test_not_an_image_is_refused_from_headers_or_first_bytes(web):
    web.files["/page"] = (200, {"Content-Type": "text/html"}, b"<html>login</html>")
    web.files["/octet"] = (200, {"Content-Type": "application/octet-stream"}, b"<html>" + b"x" * 300000)
    web.files["/empty"] = (200, {"Content-Type": "image/jpeg"}, b"")
    with pytest.raises(_errors.InvalidImage, match="text/html, not an image"):
        _source_url.UrlSource(web.url + "/page").fetch(person("a"))
    with pytest.raises(_errors.InvalidImage, match=r"an HTML page \(announced as application/octet-stream\)"):
        _source_url.UrlSource(web.url + "/octet").fetch(person("a"))
    web.files["/zeros"] = (200, {"Content-Type": "image/jpeg"}, b"\0" * 100)
    with pytest.raises(_errors.InvalidImage, match="does not start like an image"):
        _source_url.UrlSource(web.url + "/zeros").fetch(person("a"))
    with pytest.raises(_errors.InvalidImage):
        _source_url.UrlSource(web.url + "/empty").fetch(person("a"))


def test_oversize_is_cut_at_url_max_bytes(web):
    web.files["/big.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg(5) + b"x" * 5000)
    with pytest.raises(_errors.SourceError, match="larger than url_max_bytes"):
        _source_url.UrlSource(web.url + "/big.jpg", max_bytes=1000).fetch(person("a"))


def test_prefetch_many_people(web):
    for i in range(30):
        web.files["/p/u%02d.jpg" % i] = (200, {"Content-Type": "image/jpeg"}, jpeg(i))
    web.files["/p/u07.jpg"] = (503, {"Retry-After": "0"}, b"")
    source = _source_url.UrlSource(template=web.url + "/p/{sAMAccountName}.jpg", retries=1)
    people = [person("u%02d" % i) for i in range(32)]
    got = dict((p.sam_account_name, r) for p, r in source.prefetch(iter(people)))
    assert len(got) == 32
    assert got["u03"].data == jpeg(3)
    assert isinstance(got["u07"], _errors.RemoteServiceError) and got["u07"].status == 503  # an error, not None
    assert got["u30"] is None and got["u31"] is None  # 404: no photo


def test_sources_module_builds_the_new_url_source():
    source = _sources.build_source({"url": "https://hr.example.test/a.jpg", "url_bearer_token": "t",
                                    "url_timeout": 7})
    assert isinstance(source, _source_url.UrlSource) and source.http.deadline == 7
    spec = _sources.source_spec()
    assert all(spec[name].get("no_log") for name in ("url_headers", "url_password", "url_bearer_token"))


def test_a_file_source_task_imports_no_http_stack(tmp_path):
    """Issue 9 / issue 8 item 12: importing the module shells and a file or URL source must not import
    requests, MSAL, pyspnego or cryptography (measured with python -X importtime)."""
    code = ("from ansible_collections.photosync.ad.plugins.modules import thumbnail_photo, sharepoint_photo_info\n"
            "from ansible_collections.photosync.ad.plugins.module_utils import _sources, _source_url\n"
            "_sources.build_source({'url': 'https://hr.example.test/{x}'.replace('{x}', 'a.jpg')})\n"
            "_sources.build_source({'path': '/nonexistent.jpg'})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ["PHOTOSYNC_COLLECTIONS_ROOT"]] + sys.path))
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    imported = set(line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines()
                   if line.startswith("import time:"))
    assert "ansible_collections" in imported
    for heavy in ("requests", "msal", "spnego", "cryptography", "requests_ntlm", "urllib3"):
        assert heavy not in imported, heavy
