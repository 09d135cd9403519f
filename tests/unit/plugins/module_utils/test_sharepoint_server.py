# -*- coding: utf-8 -*-
"""The SharePoint and Graph clients against the test server (tests/support/sptestserver.py) on loopback:
a real NTLM handshake, the real MSAL certificate flow, both OData shapes, injected faults.
Certificate validation stays on (the server's test CA is given as ca_cert)."""

from __future__ import absolute_import, division, print_function


import pytest

from sptestserver import SPTestServer

from ansible_collections.photosync.ad.plugins.module_utils import _graph, _sharepoint as sp, _sharepoint_info
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
    # What SharePoint answers for an unknown account: a null object, or a 404 UserNotFoundException.
    for who in ("noprofile", "gone404", "neverheardof"):
        assert client.fetch_photo("i:0#.w|EXAMPLE\\%s" % who) is None, who


def test_profile_lookup_500_is_retried_then_an_error_not_no_photo(srv):
    """Issue 8 item 6: any 500 from GetPropertiesFor was read as "no profile" (None) without a retry;
    in a bulk run with photo removal an outage would have cleared photos.  Failed before the fix:
    fetch_photo returned None after exactly one request."""
    slept = []
    client = sp.SharePointClient(ntlm_settings(srv, retries=2), sleep=slept.append)
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.w|EXAMPLE\\broken500")
    assert err.value.status == 500 and "never taken as 'no profile'" in str(err.value)
    assert len([e for e in path_log(srv, "broken500") if e[3] == 500]) == 3 and len(slept) == 2
    # An outage of a person who has a photo: retried, then the photo arrives.
    srv.inject(r"GetPropertiesFor", status=500, count=1)
    assert client.fetch_photo("i:0#.w|EXAMPLE\\alice").data == srv.person("EXAMPLE\\alice").photos.sp("L")
    # A 404 that is not SharePoint's "user not found" (a wrong site URL, a proxy) is an error too.
    srv.inject(r"GetPropertiesFor", status=404, count=1, body="<html>Not Found</html>")
    with pytest.raises(RemoteServiceError) as err:
        client.fetch_photo("i:0#.w|EXAMPLE\\alice")
    assert err.value.status == 404


def test_source_prefetch_turns_5xx_into_errors_never_none(srv):
    """Issue 9: a source answering for many people hands a 5xx back as that person's error."""
    source = sp.build_remote_source({"sharepoint": ntlm_settings(srv, retries=2)}, netbios_domain="EXAMPLE")
    source.client.http.policy.sleep = lambda seconds: None
    srv.inject(r"EXAMPLE%5Cbob'|EXAMPLE\\bob'", status=503, count=100)
    people = [user("alice"), user("bob"), user("carol"), user("noprofile")]
    got = dict((person.sam_account_name, result) for person, result in source.prefetch(iter(people)))
    assert got["alice"].data == srv.person("EXAMPLE\\alice").photos.sp("L")
    assert isinstance(got["bob"], RemoteServiceError) and got["bob"].status == 503 and not got["bob"].run_wide
    assert got["bob"].user == "bob"
    assert got["carol"] is None and got["noprofile"] is None


def test_source_prefetch_raises_auth_failures_as_run_wide(srv):
    source = sp.build_remote_source({"sharepoint": ntlm_settings(srv, password="wrong")}, netbios_domain="EXAMPLE")
    people = [user("bulk%04d" % i) for i in range(1, 40)]
    with pytest.raises(RemoteServiceError) as err:
        list(source.prefetch(iter(people)))
    assert err.value.status == 401 and err.value.run_wide is True
    # the pool stopped: far fewer profile lookups than people
    assert len([e for e in path_log(srv, "GetPropertiesFor") if e[3] == 401]) < len(people)


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
    photos = _sharepoint_info.collect_photo_info(params)
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


# --- placeholders (issue 8 item 5) -------------------------------------------------------------------

@pytest.mark.parametrize("odata", ["verbose", "nometadata"])
def test_online_placeholder_profile_is_no_photo(srv, odata):
    """Issue 8 item 5: a SharePoint Online profile that SharePoint shows as a placeholder (top-level
    PictureUrl null, SPS-PicturePlaceholderState 1, PictureURL still naming an old _MThumb.jpg that is
    still served) was written as a photo.  Failed before the fix: fetch_photo downloaded the stale file."""
    urls = srv.urls()
    client = sp.SharePointClient(cert_settings(srv, site_url=urls["spo_site_url"], flavor="online", odata=odata))
    profile = client.get_profile("i:0#.f|membership|frank@example.test")
    assert profile is not None and profile.picture_url is None
    stale = profile.properties["PictureURL"]
    assert stale.endswith("_MThumb.jpg") and profile.properties["SPS-PicturePlaceholderState"] == "1"
    # the stale file is really there: a client that falls back to PictureURL gets a photo
    assert client.http.request("GET", stale).content[:3] == b"\xff\xd8\xff"
    srv.clear_log()
    assert client.fetch_photo("i:0#.f|membership|frank@example.test") is None
    assert not path_log(srv, "Thumb.jpg")  # nothing downloaded
    # a real photo online still has its top-level PictureUrl and is read
    assert client.fetch_photo("i:0#.f|membership|alice@example.test") is not None


def test_onprem_placeholder_state_is_honoured(srv):
    """Issue 8 item 5, on-premises: SPS-PicturePlaceholderState 1 means no photo even with a PictureURL;
    a null top-level PictureUrl beside a valid PictureURL (bob) still is a photo on-premises."""
    client = sp.SharePointClient(ntlm_settings(srv))
    assert client.fetch_photo("i:0#.w|EXAMPLE\\frank") is None
    assert client.fetch_photo("i:0#.w|EXAMPLE\\bob").data == srv.person("EXAMPLE\\bob").photos.sp("L")


def test_info_module_all_online_honours_placeholders(srv):
    """sharepoint_photo_info all=true on SharePoint Online reads each profile (search rows carry no
    placeholder state), so a placeholder is reported without a photo."""
    urls = srv.urls()
    settings = cert_settings(srv, site_url=urls["spo_site_url"], flavor="online")
    client = sp.SharePointClient(settings)
    names = [p.account for p in client.iter_people()]
    frank = [n for n in names if "frank" in n]
    assert frank
    photos = _sharepoint_info.collect_photo_info({"sharepoint": settings, "accounts": frank + ["alice@example.test"]})
    assert [p["has_photo"] for p in photos] == [False, True]


# --- Graph prefetch (issue 9) ---------------------------------------------------------------------

def test_graph_source_prefetch_uses_batch_and_keeps_errors_per_person(srv):
    source = sp.build_remote_source({"graph": cert_settings(srv, graph_url=srv.url + "/graph", retries=1)})
    source.client.http.policy.sleep = lambda seconds: None
    srv.inject(r"/graph/v1.0/users/bulk0006@example.test/photo", status=503, count=10)
    people = [user("bulk%04d" % i) for i in range(1, 46)]
    got = dict((p.sam_account_name, r) for p, r in source.prefetch(iter(people)))
    assert len(got) == 45
    assert got["bulk0004"] is None  # no photo
    assert got["bulk0005"].data == srv.person("bulk0005@example.test").photos.original()
    assert isinstance(got["bulk0006"], RemoteServiceError) and got["bulk0006"].status == 503
    assert got["bulk0006"].user == "bulk0006" and not got["bulk0006"].run_wide
    batches = path_log(srv, "/$batch")
    assert 3 <= len(batches) <= 5  # 45 people in $batch requests of 20 (+ the retried item), not 45 GETs
    assert not path_log(srv, "/photo/$value")


def test_graph_source_prefetch_stops_on_403(srv):
    roles = list(srv.app_roles)
    srv.app_roles[:] = []
    try:
        source = sp.build_remote_source({"graph": cert_settings(srv, graph_url=srv.url + "/graph")})
        with pytest.raises(RemoteServiceError) as err:
            list(source.prefetch(iter([user("alice"), user("bob")])))
    finally:
        srv.app_roles[:] = roles
    assert err.value.status == 403 and err.value.run_wide


def test_sharepoint_2013_access_denied_401_gets_the_permission_hint(srv):
    """Issue 8 item 7: SharePoint 2013 answers "access denied" as a 401 with
    System.UnauthorizedAccessException; it got the check-your-password hint.  Failed before the fix."""
    body = {"error": {"code": "-2147024891, System.UnauthorizedAccessException",
                      "message": {"lang": "en-US", "value": "Access denied. You do not have permission."}}}
    srv.inject(r"GetPropertiesFor", status=401, count=3, body=body)
    with pytest.raises(RemoteServiceError) as err:
        sp.SharePointClient(ntlm_settings(srv)).fetch_photo("i:0#.w|EXAMPLE\\alice")
    text = str(err.value)
    assert err.value.status == 401 and "Full Read" in text and "check username/password" not in text
