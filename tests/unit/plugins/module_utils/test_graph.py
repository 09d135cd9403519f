# -*- coding: utf-8 -*-
"""Graph logic over captured-shape JSON (REFERENCE.md section 4): $batch answers, paging, user keys.

The transport is a canned-answer stand-in for the HTTP client (answers keyed by
method and URL); everything above it - batch splitting, per-item retries, base64
bodies, nextLink paging, user-id resolution - is the real code.
"""

from __future__ import absolute_import, division, print_function

import base64

import pytest

from ansible_collections.photosync.ad.plugins.module_utils import _graph
from ansible_collections.photosync.ad.plugins.module_utils._errors import RemoteServiceError, SourceError
from ansible_collections.photosync.ad.plugins.module_utils._http import HttpResponse, RetryPolicy
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser, SourcePhoto

JPEG = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 10


class CannedHttp(object):
    def __init__(self, retries=5):
        self.slept = []
        self.policy = RetryPolicy(retries=retries, sleep=self.slept.append, rand=lambda: 1.0)
        self.batches = []
        self.gets = []
        self.batch_answer = None
        self.pages = {}
        self.binary = {}

    def post_json(self, url, body, headers=None, user=None):
        assert url.endswith("/v1.0/$batch") and len(body["requests"]) <= 20
        self.batches.append([r["url"] for r in body["requests"]])
        return self.batch_answer(body["requests"], len(self.batches))

    def get_json(self, url, headers=None, none_on=(404,), user=None):
        self.gets.append(url)
        return self.pages.get(url)

    def request(self, method, url, headers=None, user=None, **kw):
        self.gets.append(url)
        return self.binary.get(url)


def _client(http=None, **settings):
    settings.setdefault("token", "t0ken")
    settings.setdefault("graph_url", "https://graph.example.test")
    return _graph.GraphClient(settings, http=http or CannedHttp())


def _ok(req, etag='"E1"'):
    return {"id": req["id"], "status": 200,
            "headers": {"Content-Type": "image/jpeg", "ETag": etag},
            "body": base64.b64encode(JPEG + req["url"].encode()).decode()}


def test_batch_splits_in_twenties_and_decodes_any_order():
    http = CannedHttp()
    http.batch_answer = lambda reqs, n: {"responses": [_ok(r) for r in reversed(reqs)]}
    uids = ["u%d@example.test" % i for i in range(45)]
    results = _client(http).fetch_photos(uids)
    assert [len(b) for b in http.batches] == [20, 20, 5]
    assert set(results) == set(uids)
    photo = results["u7@example.test"]
    assert isinstance(photo, SourcePhoto) and photo.data == JPEG + b"/users/u7@example.test/photo/$value"
    assert photo.version == '"E1"' and photo.content_type == "image/jpeg"


def test_batch_404_is_none_429_retried_after_retry_after():
    http = CannedHttp()

    def answer(reqs, n):
        out = []
        for r in reqs:
            if "nophoto" in r["url"]:
                out.append({"id": r["id"], "status": 404, "headers": {"Content-Type": "application/json"},
                            "body": {"error": {"code": "ImageNotFound", "message": "Exception of type ..."}}})
            elif "busy" in r["url"] and n == 1:
                out.append({"id": r["id"], "status": 429, "headers": {"Retry-After": "1.5"},
                            "body": {"error": {"code": "TooManyRequests", "message": "slow down"}}})
            else:
                out.append(_ok(r))
        return {"responses": out}
    http.batch_answer = answer
    results = _client(http).fetch_photos(["a@x", "nophoto@x", "busy1@x", "busy2@x"])
    assert results["nophoto@x"] is None
    assert isinstance(results["busy1@x"], SourcePhoto) and isinstance(results["a@x"], SourcePhoto)
    assert http.slept == [1.5]
    assert http.batches[1] == ["/users/busy1@x/photo/$value", "/users/busy2@x/photo/$value"]


def test_batch_gives_up_per_item_and_reports_errors():
    http = CannedHttp(retries=2)

    def answer(reqs, n):
        out = []
        for r in reqs:
            if "denied" in r["url"]:
                out.append({"id": r["id"], "status": 403, "headers": {},
                            "body": {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}}})
            elif "down" in r["url"]:
                out.append({"id": r["id"], "status": 503, "headers": {}, "body": {}})
            else:
                out.append(_ok(r))
        return {"responses": out}
    http.batch_answer = answer
    results = _client(http).fetch_photos(["ok@x", "denied@x", "down@x"])
    assert isinstance(results["ok@x"], SourcePhoto)
    denied, down = results["denied@x"], results["down@x"]
    assert isinstance(denied, RemoteServiceError) and denied.status == 403 and "User.Read.All" in str(denied)
    assert isinstance(down, RemoteServiceError) and down.status == 503
    assert len(http.batches) == 3 and http.slept == [0.5, 1.0]  # bounded: retries=2


def test_sized_photo_paths_and_upn_escaping():
    client = _client(photo_size="96x96")
    assert client.photo_path("a@x.test") == "/users/a@x.test/photos/96x96/$value"
    assert client.photo_path("ext_b#EXT#@x.test", "original") == "/users/ext_b%23EXT%23@x.test/photo/$value"


def test_iter_users_follows_next_link():
    http = CannedHttp()
    base = "https://graph.example.test/v1.0/users?$select=id,userPrincipalName&$top=2"
    http.pages[base] = {"@odata.context": "x", "value": [{"id": "1"}, {"id": "2"}],
                        "@odata.nextLink": "https://graph.example.test/v1.0/users?$skiptoken=AB"}
    http.pages["https://graph.example.test/v1.0/users?$skiptoken=AB"] = {"value": [{"id": "3"}]}
    users = list(_client(http).iter_users(select=("id", "userPrincipalName"), top=2))
    assert [u["id"] for u in users] == ["1", "2", "3"] and len(http.gets) == 2


def test_fetch_photo_version_from_metadata_when_no_etag():
    http = CannedHttp()
    url = "https://graph.example.test/v1.0/users/a@x/photo/$value"
    http.binary[url] = HttpResponse(200, {"Content-Type": "image/jpeg"}, JPEG, url)
    http.pages["https://graph.example.test/v1.0/users/a@x/photo"] = {
        "@odata.mediaContentType": "image/jpeg", "@odata.mediaEtag": "\"BA09D118\"", "id": "240x240",
        "width": 240, "height": 240}
    photo = _client(http).fetch_photo("a@x")
    assert photo.data == JPEG and photo.version == '"BA09D118"' and photo.origin == url
    assert _client(CannedHttp()).fetch_photo("missing@x") is None


def _user(**kw):
    values = dict(dn="CN=a,DC=x", sam_account_name="alice", user_principal_name="alice@x.test",
                  mail="alice.l@x.test", object_guid="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                  object_sid="S-1-5-21-1", display_name="Alice")
    values.update(kw)
    return DirectoryUser(**values)


def test_user_keys():
    src = _graph.GraphSource({"token": "t", "graph_url": "https://g.test"})
    assert src.user_id(_user()) == "alice@x.test"
    src = _graph.GraphSource({"token": "t", "graph_url": "https://g.test", "user_template": "{sAMAccountName}@t.test"})
    assert src.user_id(_user()) == "alice@t.test"
    with pytest.raises(SourceError) as err:
        src.user_id(_user(sam_account_name=None))
    assert "sAMAccountName" in str(err.value)


def test_user_key_lookups_filter_and_cache():
    http = CannedHttp()
    src = _graph.GraphSource({"token": "t", "graph_url": "https://graph.example.test", "user_key": "mail"})
    src.client.http = http
    url = "https://graph.example.test/v1.0/users?$select=id&$top=2&$filter=mail%20eq%20%27alice.l%40x.test%27"
    http.pages[url] = {"value": [{"id": "oid-1"}]}
    assert src.user_id(_user()) == "oid-1" and src.user_id(_user()) == "oid-1" and len(http.gets) == 1
    # onPremisesImmutableId is base64 of the GUID's little-endian bytes
    assert _graph.immutable_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") == \
        base64.b64encode(bytes.fromhex("3c2d1e0f5a4b78698796a5b4c3d2e1f0")).decode()


def test_settings_and_hints():
    s = _graph.graph_settings({"token": "x"})
    assert s["auth"] == "token" and s["photo_size"] == "original" and s["graph_url"] == "https://graph.microsoft.com"
    assert _graph.graph_settings({})["auth"] == "certificate"
    assert "User.Read.All" in _graph.graph_hint(403, "certificate") and "admin consent" in _graph.graph_hint(403, "token")
    assert "certificate" in _graph.graph_hint(401, "certificate")
    assert _graph.graph_spec()["graph"]["options"]["token"]["no_log"] is True


def test_graph_resource_per_cloud_and_for_proxies():
    assert _graph.graph_resource("https://graph.microsoft.us/") == "https://graph.microsoft.us"
    assert _graph.graph_resource("https://graph.microsoft.com") == "https://graph.microsoft.com"
    assert _graph.graph_resource("https://127.0.0.1:8443/graph") == "https://graph.microsoft.com"


def test_batch_binary_body_in_base64url_is_accepted():
    """Issue 8 item 7: OData 4.01 says binary bodies inside $batch are base64url; only standard base64
    was read.  Failed before the fix: a body with '-' or '_' became "an unreadable photo body"."""
    data = b"\xff\xd8\xff\xfb\xef\xbe" * 20  # encodes with '+' and '/' in standard base64
    standard = base64.b64encode(data).decode()
    assert "+" in standard or "/" in standard
    urlsafe = base64.urlsafe_b64encode(data).decode()
    for body in (standard, urlsafe, urlsafe.rstrip("="), standard[:40] + "\n" + standard[40:]):
        assert _graph._batch_body({"body": body}) == data, body
    assert _graph._batch_body({"body": "not base64 !!"}) is None
    assert _graph._batch_body({"body": {"error": {}}}) is None


def test_batch_item_waits_the_greater_of_retry_after_and_ratelimit_reset():
    http = CannedHttp()

    def answer(reqs, n):
        if n == 1:
            return {"responses": [{"id": r["id"], "status": 429,
                                   "headers": {"Retry-After": "1", "RateLimit-Reset": "4"}, "body": {}}
                                  for r in reqs]}
        return {"responses": [_ok(r) for r in reqs]}
    http.batch_answer = answer
    results = _client(http).fetch_photos(["a@x"])
    assert isinstance(results["a@x"], SourcePhoto) and http.slept == [4.0]


def test_batch_item_asking_longer_than_max_retry_wait_is_given_up():
    http = CannedHttp()
    http.policy.max_wait = 120.0
    http.batch_answer = lambda reqs, n: {"responses": [
        {"id": r["id"], "status": 429, "headers": {"Retry-After": "315"}, "body": {}} for r in reqs]}
    results = _client(http).fetch_photos(["a@x"])
    assert isinstance(results["a@x"], RemoteServiceError) and results["a@x"].status == 429
    assert http.slept == [] and len(http.batches) == 1


def test_batch_403_item_is_run_wide():
    http = CannedHttp()
    http.batch_answer = lambda reqs, n: {"responses": [
        {"id": r["id"], "status": 403, "headers": {}, "body": {"error": {"code": "Authorization_RequestDenied"}}}
        for r in reqs]}
    results = _client(http).fetch_photos(["a@x"])
    assert results["a@x"].run_wide is True
