# -*- coding: utf-8 -*-
"""Tests of the SharePoint/Graph test server itself, driven the way clients drive it:
requests + requests-ntlm (real NTLM handshakes), real MSAL certificate flows, raw HTTP for faults."""

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

import msal
import pytest
import requests
from PIL import Image
from requests_ntlm import HttpNtlmAuth

from sptestserver import SPTestServer

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "support", "sptestserver.py")
PEOPLE_SOURCE = "b09a7990-05ea-4af9-81ef-edfab16c4e31"
VERBOSE = {"Accept": "application/json;odata=verbose"}
NOMETA = {"Accept": "application/json;odata=nometadata"}


def alias(value):
    """Encode an @v alias value the way REFERENCE.md section 4 says a client must."""
    return quote("'%s'" % value.replace("'", "''"), safe="'")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = SPTestServer(str(tmp_path_factory.mktemp("sp")), generate=1200, startrow_cap=500, http=True)
    srv.start()
    yield srv
    srv.stop()


def session(srv, auth=None):
    # REQUESTS_CA_BUNDLE in the environment would override session.verify (requests merges the
    # environment over the session): trust_env=False makes verify=<test CA> stick.
    s = requests.Session()
    s.trust_env = False
    s.verify = srv.ca_cert
    s.auth = auth
    return s


@pytest.fixture()
def ntlm(server):
    return session(server, HttpNtlmAuth("EXAMPLE\\sp_reader", "Sp-Reader-Pass-1"))


def msal_app(srv, key_path=None, **cred):
    http = session(srv)
    with open(key_path or srv.client_certificate["private_key"]) as handle:
        credential = {"private_key": handle.read()}
    credential.update(cred or {"thumbprint": srv.client_certificate["thumbprint"]})
    return msal.ConfidentialClientApplication(srv.client_id, authority=srv.authority, client_credential=credential,
                                              http_client=http, instance_discovery=False)


@pytest.fixture(scope="module")
def tokens(server):
    app = msal_app(server)
    graph = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    spo = app.acquire_token_for_client(scopes=[server.spo_scope])
    assert "access_token" in graph, graph
    assert "access_token" in spo, spo
    return {"graph": graph["access_token"], "spo": spo["access_token"]}


@pytest.fixture()
def graph(server, tokens):
    s = session(server)
    s.headers["Authorization"] = "Bearer " + tokens["graph"]
    return s


@pytest.fixture()
def spo(server, tokens):
    s = session(server)
    s.headers["Authorization"] = "Bearer " + tokens["spo"]
    return s


@pytest.fixture(autouse=True)
def clean(server):
    server.reset_faults()
    yield
    server.reset_faults()


def props_url(site, account):
    return "%s/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v=%s" % (site, alias(account))


def kv(props_list):
    return dict((p["Key"], p["Value"]) for p in props_list)


def image_size(data):
    return Image.open(io.BytesIO(data)).size


# --- NTLM ---------------------------------------------------------------------------------------
def test_ntlm_handshake_then_connection_stays_authenticated(server, ntlm):
    site = server.url + "/sites/onprem"
    server.clear_log()
    r = ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\alice"), headers=VERBOSE)
    assert r.status_code == 200, r.text
    d = r.json()["d"]
    assert d["AccountName"] == "i:0#.w|example\\alice"
    assert d["UserProfileProperties"]["results"][0]["__metadata"]["type"] == "SP.KeyValue"
    assert [e[3] for e in server.request_log] == [401, 401, 200]
    r = ntlm.get(props_url(site, "EXAMPLE\\alice"), headers=VERBOSE)  # bare DOMAIN\user is accepted too
    assert r.json()["d"]["DisplayName"] == "Alice Adams"
    assert [e[3] for e in server.request_log] == [401, 401, 200, 200]


def test_ntlm_upn_user_name(server):
    s = session(server, HttpNtlmAuth("sp_reader@example.test", "Sp-Reader-Pass-1"))
    assert s.get(server.url + "/sites/onprem/_api/web", headers=NOMETA).status_code == 200


def test_ntlm_wrong_password_is_401(server):
    s = session(server, HttpNtlmAuth("EXAMPLE\\sp_reader", "wrong"))
    r = s.get(props_url(server.url + "/sites/onprem", "i:0#.w|EXAMPLE\\alice"), headers=VERBOSE)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "NTLM"
    assert session(server).get(server.url + "/my/_api/web").status_code == 401


def test_restricted_account_gets_sharepoint_403(server):
    s = session(server, HttpNtlmAuth("EXAMPLE\\restricted", "Restricted-Pass-1"))
    url = props_url(server.url + "/sites/onprem", "i:0#.w|EXAMPLE\\alice")
    r = s.get(url, headers=VERBOSE)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "-2147024891, System.UnauthorizedAccessException"
    r = s.get(url, headers=NOMETA)
    assert r.status_code == 403
    assert r.json()["odata.error"]["message"]["lang"] == "en-US"


def test_ntlm_extended_protection_required(tmp_path):
    with SPTestServer(str(tmp_path), people=[{"account": "EXAMPLE\\zed"}], ntlm_epa="required") as srv:
        s = session(srv, HttpNtlmAuth("EXAMPLE\\sp_reader", "Sp-Reader-Pass-1"))  # sends channel bindings
        assert s.get(props_url(srv.url + "/sites/onprem", "EXAMPLE\\zed"), headers=NOMETA).status_code == 200


def test_plain_http_listener(server):
    s = requests.Session()
    s.trust_env = False
    s.auth = HttpNtlmAuth("EXAMPLE\\sp_reader", "Sp-Reader-Pass-1")
    r = s.get(props_url(server.http_url + "/sites/onprem", "i:0#.w|EXAMPLE\\alice"), headers=NOMETA)
    assert r.status_code == 200
    assert r.json()["PictureUrl"].startswith(server.http_url + "/my/")


# --- MSAL / tokens -------------------------------------------------------------------------------
def test_msal_certificate_flow_and_tokens(server, tokens, graph, spo):
    assert tokens["graph"] != tokens["spo"]
    assert graph.get(server.graph_url + "/users/alice@example.test").status_code == 200
    # a Graph token is not a SharePoint token and vice versa
    r = session(server).get(server.url + "/spo/_api/web", headers={"Authorization": "Bearer " + tokens["graph"]})
    assert r.status_code == 401 and "audience" in r.json()["error_description"]
    r = session(server).get(server.graph_url + "/users", headers={"Authorization": "Bearer " + tokens["spo"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert spo.get(server.url + "/spo/_api/web", headers=NOMETA).status_code == 200


def test_msal_with_public_certificate_uses_ps256(server):
    with open(server.client_certificate["certificate"]) as handle:
        app = msal_app(server, public_certificate=handle.read())
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result.get("token_type") == "Bearer" and result["expires_in"] > 3000


def test_msal_wrong_key_is_refused(server):
    app = msal_app(server, key_path=server.paths["wrong_client_key"])
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result["error"] == "invalid_client"
    assert "AADSTS700027" in result["error_description"]
    assert server.request_log[-1][3] == 401


def test_msal_unregistered_thumbprint_is_refused(server):
    app = msal_app(server, thumbprint="00" * 20)
    result = app.acquire_token_for_client(scopes=[server.spo_scope])
    assert result["error"] == "invalid_client" and "not registered" in result["error_description"]


def test_client_secret_token_works_for_graph_but_not_sharepoint(server):
    http = session(server)
    app = msal.ConfidentialClientApplication(server.client_id, authority=server.authority,
                                             client_credential=server.client_secret, http_client=http,
                                             instance_discovery=False)
    g = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    s = app.acquire_token_for_client(scopes=[server.spo_scope])
    assert session(server).get(server.graph_url + "/users/bob@example.test",
                               headers={"Authorization": "Bearer " + g["access_token"]}).status_code == 200
    r = session(server).get(server.url + "/spo/_api/web", headers={"Authorization": "Bearer " + s["access_token"]})
    assert r.status_code == 401
    assert r.json() == {"error_description": "Unsupported app only token."}


def test_expired_and_missing_tokens(tmp_path):
    with SPTestServer(str(tmp_path), people=[{"account": "EXAMPLE\\zed"}]) as srv:
        tok = msal_app(srv).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
        s = session(srv)
        assert s.get(srv.graph_url + "/users/zed@example.test", headers={"Authorization": "Bearer " + tok}).ok
        srv.expire_tokens()
        r = s.get(srv.graph_url + "/users/zed@example.test", headers={"Authorization": "Bearer " + tok})
        assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
        assert s.get(srv.graph_url + "/users").status_code == 401
        srv.app_roles = []
        tok = msal_app(srv).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
        r = s.get(srv.graph_url + "/users", headers={"Authorization": "Bearer " + tok})
        assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"


# --- profiles and OData shapes ---------------------------------------------------------------------
def test_odata_shapes(server, ntlm):
    url = props_url(server.url + "/sites/onprem", "i:0#.w|EXAMPLE\\alice")
    verbose = ntlm.get(url, headers=VERBOSE).json()
    nometa = ntlm.get(url, headers=NOMETA).json()
    minimal = ntlm.get(url, headers={"Accept": "application/json"}).json()
    assert verbose["d"]["__metadata"]["type"] == "SP.UserProfiles.PersonProperties"
    assert "__metadata" not in nometa and "odata.metadata" not in nometa
    assert minimal["odata.metadata"].endswith("#SP.UserProfiles.PersonProperties")
    vprops = kv(verbose["d"]["UserProfileProperties"]["results"])
    nprops = kv(nometa["UserProfileProperties"])
    assert vprops == nprops
    for key in ("PictureURL", "UserName", "SPS-UserPrincipalName", "SPS-DistinguishedName", "WorkEmail", "SID"):
        assert key in nprops
    assert nprops["PictureURL"] == nometa["PictureUrl"]
    assert nprops["PictureURL"].endswith("/my/User%20Photos/Profile%20Pictures/EXAMPLE_alice_MThumb.jpg")
    prop = "%s/_api/SP.UserProfiles.PeopleManager/GetUserProfilePropertyFor(accountName=@v,propertyName='PictureURL')" \
           "?@v=%s" % (server.url + "/sites/onprem", alias("i:0#.w|EXAMPLE\\alice"))
    assert ntlm.get(prop, headers=VERBOSE).json() == {"d": {"GetUserProfilePropertyFor": nprops["PictureURL"]}}
    assert ntlm.get(prop, headers=NOMETA).json() == {"value": nprops["PictureURL"]}


def test_online_profile(server, spo):
    r = spo.get(props_url(server.url + "/spo", "i:0#.f|membership|alice@example.test"), headers=NOMETA)
    assert r.status_code == 200
    body = r.json()
    props = kv(body["UserProfileProperties"])
    person = server.person("alice@example.test")
    assert props["msOnline-ObjectId"] == person.object_id
    assert body["PictureUrl"].endswith("/%s_MThumb.jpg?t=%s" % (person.object_id, props["SPS-PictureTimestamp"]))
    # Windows claims mean nothing online
    r = spo.get(props_url(server.url + "/spo", "i:0#.w|EXAMPLE\\alice"), headers=NOMETA)
    assert r.json() == {"odata.null": True}


def test_alias_quote_doubling_unicode_and_plus(server, ntlm):
    site = server.url + "/sites/onprem"
    r = ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\o'brien"), headers=NOMETA)
    assert r.json()["DisplayName"] == "Dara O'Brien"
    inline = "%s/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=%s)" % (
        site, alias("i:0#.w|EXAMPLE\\o'brien"))
    assert ntlm.get(inline, headers=NOMETA).json()["DisplayName"] == "Dara O'Brien"
    bad = "%s/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v=%s" % (
        site, quote("'i:0#.w|EXAMPLE\\o'brien'", safe="'"))
    r = ntlm.get(bad, headers=NOMETA)
    assert r.status_code == 400 and "odata.error" in r.json()
    assert ntlm.get(props_url(site, u"i:0#.w|EXAMPLE\\j\u00fcrgen"), headers=NOMETA).json()["DisplayName"] == \
        u"J\u00fcrgen Vogel"
    # an unencoded '#' is a fragment and never reaches the server: the account is cut short
    r = ntlm.get(site + "/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v='i:0#.w|EXAMPLE%5Calice'",
                 headers=NOMETA)
    assert r.status_code == 400


def test_picture_url_null_quirk_and_missing_profiles(server, ntlm):
    site = server.url + "/sites/onprem"
    bob = ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\bob"), headers=NOMETA).json()
    assert bob["PictureUrl"] is None
    assert kv(bob["UserProfileProperties"])["PictureURL"].endswith("EXAMPLE_bob_MThumb.jpg")
    carol = ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\carol"), headers=NOMETA).json()
    assert carol["PictureUrl"] is None and kv(carol["UserProfileProperties"])["PictureURL"] == ""
    for account in ("i:0#.w|EXAMPLE\\nobody", "i:0#.w|EXAMPLE\\noprofile"):
        assert ntlm.get(props_url(site, account), headers=NOMETA).json() == {"odata.null": True}
        d = ntlm.get(props_url(site, account), headers=VERBOSE).json()["d"]
        assert d["AccountName"] is None and d["UserProfileProperties"]["results"] == []
    assert ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\gone404"), headers=NOMETA).status_code == 404
    r = ntlm.get(props_url(site, "i:0#.w|EXAMPLE\\broken500"), headers=VERBOSE)
    assert r.status_code == 500 and "UserNotFoundException" in r.json()["error"]["code"]


def test_sharepoint_2013_speaks_verbose_only(tmp_path):
    with SPTestServer(str(tmp_path), onprem_version="2013", people=[{"account": "EXAMPLE\\zed"}]) as srv:
        s = session(srv, HttpNtlmAuth("EXAMPLE\\sp_reader", "Sp-Reader-Pass-1"))
        url = props_url(srv.url + "/sites/onprem", "EXAMPLE\\zed")
        r = s.get(url, headers=NOMETA)
        assert r.status_code == 400 and "ACCEPT" in r.json()["error"]["message"]["value"]
        assert "d" in s.get(url, headers={"Accept": "application/json"}).json()


# --- photo files ---------------------------------------------------------------------------------------
def test_photo_files_sizes_localized_folder_and_etag(server, ntlm):
    site = server.url + "/sites/onprem"
    for account, folder in (("EXAMPLE\\alice", "Profile%20Pictures"), ("EXAMPLE\\eve", "Photos%20du%20profil"),
                            (u"EXAMPLE\\j\u00fcrgen", "Profilbilder")):
        person = server.person(account)
        m_url = ntlm.get(props_url(site, "i:0#.w|" + account), headers=NOMETA).json()["PictureUrl"]
        assert "/User%20Photos/" + folder + "/" in m_url
        hashes = person.photo_hashes()
        for letter, box in (("L", 300), ("M", 72), ("S", 48)):
            r = ntlm.get(m_url.replace("_MThumb.jpg", "_%sThumb.jpg" % letter))
            assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
            assert hashlib.sha256(r.content).hexdigest() == hashes[letter]
            w, h = image_size(r.content)
            ow, oh = person.photos.dims()
            assert max(w, h) == min(box, max(ow, oh))
            assert r.headers["ETag"] == person.etag() and r.headers["Last-Modified"]
    jurgen = server.person(u"EXAMPLE\\j\u00fcrgen")
    assert image_size(jurgen.photos.sp("L")) == (225, 300)  # 480x640 kept its aspect


def test_get_file_by_server_relative_url_and_change_detection(server, ntlm, spo, graph):
    person = server.person("EXAMPLE\\alice")
    path = "/my/User Photos/Profile Pictures/EXAMPLE_alice_LThumb.jpg"
    url = "%s/my/_api/web/GetFileByServerRelativeUrl('%s')/$value" % (server.url, quote(path))
    first = ntlm.get(url)
    assert first.status_code == 200 and first.content == person.photos.sp("L")
    assert ntlm.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    aliased = "%s/my/_api/web/GetFileByServerRelativeUrl(@u)/$value?@u=%s" % (server.url, alias(path))
    assert ntlm.get(aliased).content == first.content
    missing = "%s/my/_api/web/GetFileByServerRelativeUrl('%s')/$value" % (server.url, quote(path + "x"))
    assert ntlm.get(missing, headers=NOMETA).status_code == 404
    spo_url = spo.get(props_url(server.url + "/spo", "i:0#.f|membership|alice@example.test"),
                      headers=NOMETA).json()["PictureUrl"]
    etag = graph.get(server.graph_url + "/users/alice@example.test/photo").json()["@odata.mediaEtag"]
    server.set_photo("EXAMPLE\\alice", seed=999)
    try:
        second = ntlm.get(url)
        assert second.headers["ETag"] != first.headers["ETag"] and second.content != first.content
        assert ntlm.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
        new_spo_url = spo.get(props_url(server.url + "/spo", "i:0#.f|membership|alice@example.test"),
                              headers=NOMETA).json()["PictureUrl"]
        assert new_spo_url != spo_url and new_spo_url.split("?t=")[0] == spo_url.split("?t=")[0]
        assert graph.get(server.graph_url + "/users/alice@example.test/photo").json()["@odata.mediaEtag"] != etag
    finally:
        server.set_photo("EXAMPLE\\alice", seed=101)


def test_userphoto_placeholder(server, ntlm, spo):
    r = ntlm.get(server.url + "/my/_layouts/15/userphoto.aspx?size=L&accountname=" + quote("EXAMPLE\\carol"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    placeholder = r.content
    r = ntlm.get(server.url + "/_layouts/15/userphoto.aspx?size=L&accountname=" + quote("EXAMPLE\\alice"))
    assert r.content == server.person("EXAMPLE\\alice").photos.sp("L") != placeholder
    r = spo.get(server.url + "/spo-my/_layouts/15/userphoto.aspx?size=S&accountname=carol%40example.test")
    assert r.status_code == 200 and image_size(r.content) == (48, 48)


def test_folder_listing_throttled_above_threshold(server, ntlm):
    url = server.url + "/my/_api/web/GetFolderByServerRelativeUrl('%s')/Files" % quote(
        "/my/User Photos/Photos du profil")
    r = ntlm.get(url, headers=NOMETA)
    assert r.status_code == 200 and len(r.json()["value"]) >= 3
    url = server.url + "/my/_api/web/GetFolderByServerRelativeUrl('%s')/Files" % quote(
        "/my/User Photos/Profile Pictures")  # about 2,700 files: fine below 5,000, refused above 1,000
    old, server.folder_threshold = server.folder_threshold, 1000
    try:
        r = ntlm.get(url, headers=VERBOSE)
        assert r.status_code == 500
        assert r.json()["error"]["code"].endswith("SPQueryThrottledException")
    finally:
        server.folder_threshold = old


# --- search --------------------------------------------------------------------------------------------
def search_url(site, querytext="*", **extra):
    params = ["querytext=" + alias(querytext), "sourceid=" + alias(PEOPLE_SOURCE),
              "selectproperties=" + alias("AccountName,WorkEmail,PictureURL,UserProfile_GUID")]
    params += ["%s=%s" % (k, v) for k, v in extra.items()]
    return site + "/_api/search/query?" + "&".join(params)


def rows_of(body, verbose):
    rel = (body["d"]["query"] if verbose else body)["PrimaryQueryResult"]["RelevantResults"]
    rows = rel["Table"]["Rows"]["results"] if verbose else rel["Table"]["Rows"]
    cells = [dict((c["Key"], c["Value"]) for c in (row["Cells"]["results"] if verbose else row["Cells"]))
             for row in rows]
    return rel, cells


def test_search_startrow_paging_and_caps(server, ntlm):
    site = server.url + "/sites/onprem"
    expected = set(p.account for p in server.people.people if p.profile == "ok")
    seen = []
    for start in (0, 500):  # startrow up to the cap (500 here, 50,000 in SharePoint) is served
        rel, cells = rows_of(ntlm.get(search_url(site, rowlimit=500, startrow=start), headers=VERBOSE).json(), True)
        assert rel["TotalRows"] == len(expected) == 1200 + 7 and rel["RowCount"] == len(cells) == 500
        seen += [c["AccountName"] for c in cells]
    assert len(set(seen)) == 1000 and set(seen) <= expected
    r = ntlm.get(search_url(site, rowlimit=500, startrow=1000), headers=NOMETA)  # beyond the cap: refused
    assert r.status_code == 500 and "StartRow" in r.json()["odata.error"]["message"]["value"]
    rel, cells = rows_of(ntlm.get(search_url(site, rowlimit=2000), headers=NOMETA).json(), False)
    assert len(cells) == 500 and set(cells[0]) >= {"DocId", "AccountName", "WorkEmail", "PictureURL",
                                                   "UserProfile_GUID"}


def test_search_index_docid_strategy_reaches_everyone(server, ntlm, spo):
    for sess, site, headers in ((ntlm, server.url + "/sites/onprem", NOMETA), (spo, server.url + "/spo", VERBOSE)):
        verbose = headers is VERBOSE
        expected = set(p.upn for p in server.people.people if p.profile == "ok")
        seen, last = [], None
        while True:
            q = "*" if last is None else "* IndexDocId>%s" % last
            body = sess.get(search_url(site, q, sortlist=alias("[docid]:ascending"), rowlimit=500),
                            headers=headers).json()
            rel, cells = rows_of(body, verbose)
            if not cells:
                break
            docids = [int(c["DocId"]) for c in cells]
            assert docids == sorted(docids)
            last = docids[-1]
            seen += [c["WorkEmail"] for c in cells]
        assert len(seen) == len(expected) and set(seen) == expected


# --- Graph ---------------------------------------------------------------------------------------------
def test_graph_photo_sizes_and_metadata(server, graph):
    g = server.graph_url
    bob = server.person("EXAMPLE\\bob")  # 240x240 original
    meta = graph.get(g + "/users/%s/photo" % bob.object_id).json()
    assert meta["@odata.mediaContentType"] == "image/jpeg" and (meta["width"], meta["height"]) == (240, 240)
    assert meta["@odata.mediaEtag"].startswith('"')
    full = graph.get(g + "/users/bob@example.test/photo/$value")
    assert full.status_code == 200 and image_size(full.content) == (240, 240)
    for size in ("48x48", "96x96", "240x240"):
        r = graph.get(g + "/users/%s/photos/%s/$value" % (bob.object_id, size))
        assert r.status_code == 200 and image_size(r.content)[0] == int(size.split("x", maxsplit=1)[0])
    r = graph.get(g + "/users/%s/photos/360x360/$value" % bob.object_id)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ImageNotFound"
    sized = graph.get(g + "/users/%s/photos/96x96" % bob.object_id).json()
    assert sized["width"] == 96 and sized["id"] == "96X96"
    r = graph.get(g + "/users/carol@example.test/photo/$value")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ImageNotFound"
    r = graph.get(g + "/users/nobody@example.test/photo/$value")
    assert r.status_code == 404 and r.json()["error"]["code"] == "Request_ResourceNotFound"


def test_graph_batch(server, graph):
    people = [p for p in server.people.people if p.has_photo and p.profile == "ok"][:20]
    reqs = [{"id": str(i), "method": "GET", "url": "/users/%s/photos/48x48/$value" % p.object_id}
            for i, p in enumerate(people)]
    server.inject(r"/users/%s/photos/48x48" % people[3].object_id, status=429, retry_after="1.5")
    body = graph.post(server.graph_url + "/$batch", json={"requests": reqs}).json()
    responses = body["responses"]
    assert sorted(int(r["id"]) for r in responses) == list(range(20))
    assert [r["id"] for r in responses] != [str(i) for i in range(20)]  # any order, like Graph
    by_id = dict((r["id"], r) for r in responses)
    assert by_id["3"]["status"] == 429 and by_id["3"]["headers"]["Retry-After"] == "1.5"
    ok = by_id["0"]
    assert ok["status"] == 200 and base64.b64decode(ok["body"]) == people[0].photos.rendition(48)
    carol = server.person("EXAMPLE\\carol")
    body = graph.post(server.graph_url + "/$batch", json={"requests": [
        {"id": "a", "method": "GET", "url": "users/%s/photo/$value" % carol.object_id}]}).json()
    assert body["responses"][0]["status"] == 404
    assert body["responses"][0]["body"]["error"]["code"] == "ImageNotFound"
    r = graph.post(server.graph_url + "/$batch", json={"requests": reqs + [dict(reqs[0], id="20")]})
    assert r.status_code == 400


def test_graph_users_paging(server, graph):
    url = server.graph_url + "/users?$select=id,userPrincipalName&$top=500"
    seen = []
    while url:
        r = graph.get(url)
        assert r.status_code == 200
        body = r.json()
        seen += [u["userPrincipalName"] for u in body["value"]]
        assert set(body["value"][0]) == {"id", "userPrincipalName"}
        url = body.get("@odata.nextLink")
        assert url is None or url.startswith(server.graph_url + "/users?")
    assert sorted(seen) == sorted(p.upn for p in server.people.people if p.profile == "ok")
    r = graph.get(server.graph_url + "/users?$top=1000")
    assert r.status_code == 400


# --- faults ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status,retry_after", [(401, None), (403, None), (404, None), (429, 2), (429, "1.5"),
                                                (500, None), (503, "3")])
def test_faults_sharepoint_and_graph(server, ntlm, graph, status, retry_after):
    url = props_url(server.url + "/sites/onprem", "i:0#.w|EXAMPLE\\alice")
    ntlm.get(url, headers=NOMETA)  # authenticate the connection first
    # a 401 drops the connection's NTLM authentication; requests-ntlm then re-handshakes once, so 3 are needed
    server.inject(r"GetPropertiesFor", status=status, retry_after=retry_after, count=3 if status == 401 else 2)
    r = ntlm.get(url, headers=NOMETA)
    assert r.status_code == status
    if retry_after is not None:
        assert r.headers["Retry-After"] == str(retry_after)
    if status == 401:
        assert r.headers["WWW-Authenticate"] == "NTLM"
    else:
        assert r.json()["odata.error"]["message"]["lang"] == "en-US"
        r = ntlm.get(url, headers=VERBOSE)
        assert r.status_code == status and r.json()["error"]["code"]
    server.reset_faults()
    assert ntlm.get(url, headers=NOMETA).status_code == 200
    server.inject(r"/photo/\$value", status=status, retry_after=retry_after)
    r = graph.get(server.graph_url + "/users/alice@example.test/photo/$value")
    assert r.status_code == status and "code" in r.json()["error"]
    assert graph.get(server.graph_url + "/users/alice@example.test/photo/$value").status_code == 200


def test_fault_count_latency_drop_and_custom_body(server, graph):
    url = server.graph_url + "/users/alice@example.test"
    fid = server.inject(r"/users/alice@example\.test$", status=503, count=2)
    assert [graph.get(url).status_code for dummy in range(3)] == [503, 503, 200]
    assert [f.hits for f in server.faults if f.id == fid] == [2]
    server.inject(r"/users/alice", latency=0.2)
    started = time.monotonic()
    assert graph.get(url).status_code == 200
    print("latency fault: request took %.3f s (0.2 s injected)" % (time.monotonic() - started))
    server.inject(r"/users/alice", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.get(url)
    assert server.request_log[-1][3] == 0
    assert graph.get(url).status_code == 200
    server.inject(r"/users/alice", status=500, body={"custom": True})
    assert graph.get(url).json() == {"custom": True}


def test_token_endpoint_faults(server):
    server.inject(r"/oauth2/v2\.0/token", status=503, retry_after=1)
    app = msal_app(server)
    try:
        result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    except msal.exceptions.MsalServiceError as exc:  # msal 1.39 raises on a 5xx from the token endpoint
        result = {"error": str(exc)}
    assert "access_token" not in result and "503" in result["error"] + str(result.get("error_description"))
    assert server.request_log[-1][2].endswith("/oauth2/v2.0/token") and server.request_log[-1][3] == 503
    # (the same app would replay the 503 until Retry-After passes: msal throttles itself); a new one gets through
    assert "access_token" in msal_app(server).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])


def test_control_endpoints(server, graph):
    ctl = session(server)
    r = ctl.post(server.url + "/_control/faults",
                 json={"path_regex": "/users/bob", "status": 429, "retry_after": "0.5"})
    assert r.status_code == 200 and r.json()["ids"]
    resp = graph.get(server.graph_url + "/users/bob@example.test")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "0.5"
    log = ctl.get(server.url + "/_control/log").json()["log"]
    assert [e[1:] for e in log[-1:]] == [["GET", "/graph/v1.0/users/bob@example.test", 429]]
    assert ctl.post(server.url + "/_control/reset", json={}).status_code == 200
    assert ctl.get(server.url + "/_control/log").json()["log"] == []
    assert graph.get(server.graph_url + "/users/bob@example.test").status_code == 200
    before = ctl.get(server.url + "/_control/people?account=eve@example.test").json()
    after = ctl.post(server.url + "/_control/photo", json={"account": "eve@example.test", "seed": 4711}).json()
    assert after["etag"] != before["etag"] and after["photo_sha256"]["L"] != before["photo_sha256"]["L"]
    removed = ctl.post(server.url + "/_control/photo", json={"account": "eve@example.test", "remove": True}).json()
    assert removed["has_photo"] is False
    assert graph.get(server.graph_url + "/users/eve@example.test/photo").status_code == 404
    server.set_photo("eve@example.test", seed=606)


# --- CLI -------------------------------------------------------------------------------------------------
def test_cli_daemon_people_from_dc_and_stop(tmp_path):
    dc = tmp_path / "dc.json"
    dc.write_text(json.dumps({"netbios_domain": "EXAMPLE", "realm": "EXAMPLE.TEST", "users": {
        "alice": {"dn": "CN=Alice Adams,OU=Staff,DC=example,DC=test", "upn": "alice@example.test",
                  "objectGUID": "37bff03b-2c9f-46c4-a831-e3187e9552d3", "has_photo": False},
        "weird": {"objectGUID": "not-a-guid"}, "broken": "not a dict"}}))
    state = tmp_path / "state"
    cmd = [sys.executable, SCRIPT, "--state-dir", str(state), "--port", "0", "--people-from-dc", str(dc),
           "--generate", "3", "--daemon"]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    try:
        desc = json.loads((state / "sp.json").read_text())
        assert desc["onprem"]["domain"] == "EXAMPLE" and desc["people_count"] == 5
        alice = [p for p in desc["people"] if p["sam"] == "alice"][0]
        assert alice["has_photo"] and alice["object_id"] == "37bff03b-2c9f-46c4-a831-e3187e9552d3"
        assert [p["has_photo"] for p in desc["people"] if p["sam"] == "weird"] == [True]
        s = requests.Session()
        s.trust_env = False
        s.auth = HttpNtlmAuth(desc["onprem"]["account"], desc["onprem"]["password"])
        url = props_url(desc["onprem"]["site_url"], alice["claims_onprem"])
        body = s.get(url, headers=NOMETA, verify=desc["ca_cert"]).json()
        photo = s.get(body["PictureUrl"].replace("_MThumb", "_LThumb"), verify=desc["ca_cert"]).content
        assert hashlib.sha256(photo).hexdigest() == alice["photo_sha256"]["L"]
        assert os.path.exists(desc["online"]["client_certificate"]["private_key"])
    finally:
        stop = subprocess.run([sys.executable, SCRIPT, "stop", "--state-dir", str(state)], check=False, capture_output=True,
                              text=True, timeout=30)
    assert stop.returncode == 0, stop.stderr
    assert not (state / "sp.pid").exists()
