# -*- coding: utf-8 -*-
"""The SharePoint and Graph clients against the test server (tests/support/sptestserver.py) on loopback:
a real NTLM handshake, the real MSAL certificate flow, both OData shapes, injected faults.
Certificate validation stays on (the server's test CA is given as ca_cert)."""

from __future__ import absolute_import, division, print_function


import pytest

from sptestserver import SPTestServer

from ansible_collections.photosync.ad.plugins.module_utils import _graph, _sharepoint as sp
from ansible_collections.photosync.ad.plugins.module_utils._errors import RemoteServiceError
from ansible_collections.photosync.ad.plugins.module_utils._photo import DirectoryUser

GENERATED = 1200
STARTROW_CAP = 500


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = SPTestServer(str(tmp_path_factory.mktemp("sptest")), generate=GENERATED, startrow_cap=STARTROW_CAP)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.reset_faults()
    server.clear_log()
    yield server
    server.reset_faults()


def ntlm_settings(srv, **kw):
    return srv.ntlm_options(**kw)


def cert_settings(srv, **kw):
    return srv.certificate_options(**kw)


def path_log(srv, needle):
    return [entry for entry in srv.request_log if needle in entry[2]]


def user(sam, upn=None):
    return DirectoryUser("CN=%s,DC=example,DC=test" % sam, sam, upn or "%s@example.test" % sam, None, None, None, sam)


# --- on-premises with NTLM ------------------------------------------------------------------

@pytest.mark.parametrize("odata", ["verbose", "nometadata"])
def test_ntlm_profiles_and_photos_both_shapes(srv, odata):
    client = sp.SharePointClient(ntlm_settings(srv, odata=odata))
    alice = client.fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert alice.data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert alice.origin.endswith("/EXAMPLE_alice_LThumb.jpg") and alice.version
    # PictureUrl null, PictureURL property set
    bob = client.fetch_photo("i:0#.w|EXAMPLE\\bob")
    assert bob.data == srv.person("EXAMPLE\\bob").photos.sp("L")
    # quote in the account; unicode account and a localized folder; another localized folder
    assert client.fetch_photo("i:0#.w|EXAMPLE\\o'brien").data == srv.person("EXAMPLE\\o'brien").photos.sp("L")
    jurgen = client.fetch_photo(u"i:0#.w|EXAMPLE\\j\u00fcrgen")
    assert jurgen.data == srv.person(u"EXAMPLE\\j\u00fcrgen").photos.sp("L") and "/Profilbilder/" in jurgen.origin
    assert "/Photos%20du%20profil/" in client.fetch_photo("i:0#.w|EXAMPLE\\eve").origin
    accepts = set(e for e in srv.request_log)
    assert accepts  # the server answered every call above with the asked-for shape or the code would have failed


def test_no_photo_and_no_profile_variants(srv):
    client = sp.SharePointClient(ntlm_settings(srv))
    assert client.get_profile("i:0#.w|EXAMPLE\\carol") is not None
    assert client.fetch_photo("i:0#.w|EXAMPLE\\carol") is None
    for who in ("noprofile", "gone404", "broken500", "neverheardof"):
        assert client.fetch_photo("i:0#.w|EXAMPLE\\%s" % who) is None, who
    # a 500 for an unknown account is an answer, not a reason to retry five times
    assert len([e for e in path_log(srv, "broken500") if e[3] == 500]) == 1


def test_photo_size_choice(srv):
    small = sp.SharePointClient(ntlm_settings(srv, photo_size="S")).fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert small.data == srv.person("EXAMPLE\\alice").photos.sp("S") and small.origin.endswith("_SThumb.jpg")


def test_source_fetch_maps_directory_user(srv):
    source = sp.build_remote_source({"sharepoint": ntlm_settings(srv)}, netbios_domain="EXAMPLE")
    assert source.fetch(user("alice")).data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert source.fetch(user("carol")) is None
    assert "SharePoint" in source.describe() and "ntlm" in source.describe()


def test_ntlm_wrong_password_names_method(srv):
    client = sp.SharePointClient(ntlm_settings(srv, password="wrong"))
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert err.value.status == 401 and "NTLM" in str(err.value) and "DOMAIN\\user" in str(err.value)


def test_403_hint_names_the_permission(srv):
    srv.inject(r"GetPropertiesFor", status=403, count=1)
    with pytest.raises(RemoteServiceError) as err:
        sp.SharePointClient(ntlm_settings(srv)).fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert err.value.status == 403 and "Full Read" in str(err.value) and "User Profile" in str(err.value)


def test_429_retry_after_is_waited_out(srv):
    srv.inject(r"EXAMPLE_alice_LThumb", status=429, retry_after=1.5, count=1)
    photo = sp.SharePointClient(ntlm_settings(srv)).fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert photo.data == srv.person("EXAMPLE\\alice").photos.sp("L")
    hits = [e for e in path_log(srv, "EXAMPLE_alice_LThumb") if e[3] in (429, 200)]
    assert [e[3] for e in hits] == [429, 200]
    gap = hits[1][0] - hits[0][0]
    print("429 Retry-After 1.5 -> measured gap %.3f s" % gap)
    assert gap >= 1.5


def test_5xx_retried_a_bounded_number_of_times(srv):
    slept = []
    srv.inject(r"EXAMPLE_alice_LThumb", status=503, count=2)
    client = sp.SharePointClient(ntlm_settings(srv), sleep=slept.append)
    assert client.fetch_photo("i:0#.w|EXAMPLE\\alice") is not None and len(slept) == 2
    srv.clear_log()
    srv.inject(r"EXAMPLE_bob_LThumb", status=502, count=100)
    client = sp.SharePointClient(ntlm_settings(srv, retries=3), sleep=slept.append)
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.w|EXAMPLE\\bob")
    assert err.value.status == 502
    assert len([e for e in path_log(srv, "EXAMPLE_bob_LThumb") if e[3] == 502]) == 4  # 1 + 3 retries


def test_dropped_connection_is_retried(srv):
    srv.inject(r"EXAMPLE_alice_LThumb", drop=True, count=1)
    photo = sp.SharePointClient(ntlm_settings(srv), sleep=lambda s: None).fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert photo.data == srv.person("EXAMPLE\\alice").photos.sp("L")
    codes = [e[3] for e in path_log(srv, "EXAMPLE_alice_LThumb")]
    assert codes.count(0) == 1 and codes[-1] == 200 and codes.index(0) < len(codes) - 1  # dropped, then again


def test_enumerate_everybody_across_pages_and_past_the_startrow_cap(srv):
    client = sp.SharePointClient(ntlm_settings(srv))
    people = list(client.iter_people(page_size=200, startrow_cap=STARTROW_CAP))
    expected = [p for p in srv.people.people if p.profile == "ok"]
    assert len(people) == len(expected) >= GENERATED
    assert set(p.account.lower() for p in people) == set(p.account.lower() for p in expected)
    searches = path_log(srv, "/_api/search/query")
    assert len(searches) >= GENERATED // 200
    assert any("IndexDocId" in e[2] for e in searches)  # switched strategy past the cap
    assert all(e[3] in (200, 401) for e in searches) and not any(e[3] == 500 for e in searches)  # 401: NTLM legs
    print("people search: %d people in %d requests" % (len(people), len(searches)))


def test_concurrency_cap_holds(srv):
    srv.reset_stats()
    params = {"sharepoint": ntlm_settings(srv, max_concurrency=3),
              "accounts": ["EXAMPLE\\bulk%04d" % i for i in range(1, 25)]}
    srv.inject(r"LThumb", latency=0.02, count=24)
    photos = sp.collect_photo_info(params)
    assert len(photos) == 24 and sum(1 for p in photos if p["has_photo"]) == 18
    assert 1 <= srv.max_in_flight <= 3
    print("max in flight with max_concurrency=3: %d" % srv.max_in_flight)


# --- SharePoint Online with the MSAL certificate flow -------------------------------------------------

@pytest.mark.parametrize("odata", ["verbose", "nometadata"])
def test_online_certificate_flow(srv, odata):
    urls = srv.urls()
    client = sp.SharePointClient(cert_settings(srv, site_url=urls["spo_site_url"], flavor="online", odata=odata))
    alice = client.fetch_photo("i:0#.f|membership|alice@example.test")
    assert alice.data == srv.person("alice@example.test").photos.sp("L")
    assert alice.version and alice.version in alice.origin  # SPO ?t= token
    assert client.fetch_photo("i:0#.f|membership|carol@example.test") is None
    assert client.fetch_photo("i:0#.f|membership|bob@example.test") is not None
    assert len(path_log(srv, "/oauth2/v2.0/token")) == 1  # one token, reused
    assert client.token_provider.acquired == 1


def test_online_bad_thumbprint_is_refused_by_the_authority(srv):
    urls = srv.urls()
    client = sp.SharePointClient(cert_settings(srv, site_url=urls["spo_site_url"], flavor="online",
                                               certificate_thumbprint="00" * 20))
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.f|membership|alice@example.test")
    assert "certificate" in str(err.value) and err.value.status == 401


def test_online_403_hint(srv):
    srv.inject(r"/spo/_api/", status=403, count=1)
    urls = srv.urls()
    client = sp.SharePointClient(cert_settings(srv, site_url=urls["spo_site_url"], flavor="online"))
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.f|membership|alice@example.test")
    assert err.value.status == 403 and "Sites.Read.All" in str(err.value) and "admin consent" in str(err.value)


# --- Microsoft Graph ---------------------------------------------------------------------------

def graph_client(srv, **kw):
    return _graph.GraphClient(cert_settings(srv, graph_url=srv.url + "/graph", **kw))


def test_graph_photo_metadata_and_none(srv):
    client = graph_client(srv)
    photo = client.fetch_photo("alice@example.test")
    assert photo.data == srv.person("alice@example.test").photos.original()
    assert photo.version == client.photo_metadata("alice@example.test")["@odata.mediaEtag"]
    assert client.fetch_photo("carol@example.test") is None
    sized = graph_client(srv, photo_size="96x96").fetch_photo("alice@example.test")
    assert sized.data != photo.data and sized.origin.endswith("/photos/96x96/$value")


def test_graph_batch_with_a_throttled_item(srv):
    srv.inject(r"/graph/v1.0/users/bulk0005@example.test/photo", status=429, retry_after=0.2, count=1)
    client = graph_client(srv)
    uids = ["bulk%04d@example.test" % i for i in range(1, 46)] + ["carol@example.test"]
    results = client.fetch_photos(uids)
    assert len(path_log(srv, "/$batch")) == 4  # 20 + 20 + 6, then the one throttled item again
    assert results["carol@example.test"] is None
    assert results["bulk0004@example.test"] is None  # every 4th generated person has no photo
    assert results["bulk0005@example.test"].data == srv.person("bulk0005@example.test").photos.original()
    assert client.http.policy.waits == [0.2]


def test_graph_users_paging(srv):
    users = list(graph_client(srv).iter_users(top=500))
    assert len(users) == len([p for p in srv.people.people if p.profile == "ok"])
    assert len(path_log(srv, "/graph/v1.0/users?")) == 3


def test_graph_403_hint(srv):
    srv.inject(r"/graph/v1.0/users/alice", status=403, count=1)
    with pytest.raises(RemoteServiceError) as err:
        graph_client(srv).fetch_photo("alice@example.test")
    assert err.value.status == 403 and "User.Read.All" in str(err.value) and "admin consent" in str(err.value)


def test_graph_source_user_keys(srv):
    source = sp.build_remote_source({"graph": cert_settings(srv, graph_url=srv.url + "/graph")})
    assert source.fetch(user("alice")).data == srv.person("alice@example.test").photos.original()
    source = sp.build_remote_source({"graph": cert_settings(srv, graph_url=srv.url + "/graph",
                                                            user_template="{sAMAccountName}@example.test")})
    assert source.fetch(user("bob", upn="bob@elsewhere.test")) is not None
